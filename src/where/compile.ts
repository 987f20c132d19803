// Compiles a parsed where clause into closures, once per shape: every per-row step is a closure call;
// column values are parsed from their text form at most once per row, and sub-expressions without
// column references are evaluated at compile time (as Postgres's planner folds constants).
import type {
  A_ArrayExpr, A_Const, A_Expr, BooleanTest, BoolExpr, CoalesceExpr, CollateClause, ColumnRef, FuncCall,
  MinMaxExpr, Node, NullTest, ParamRef, SQLValueFunction, TypeCast, TypeName,
} from 'libpg-query'
import {
  caseMappingOf, mergeCollations, requireCollation, type CaseMapping, type Collation, type CollationUse, type Derived,
} from './collation.js'
import { EvalFailure, WhereError } from './errors.js'
import { codecOf, EMPTY_ARRAY, type PgArray, type Value } from './codec.js'
import { explicitCast, implicitCast, isStableCast, type Convert } from './casts.js'
import { lookupFunction } from './functions.js'
import { comparePredicate, OperatorError, resolveBinary, resolveUnary, type Operator } from './operators.js'
import { PREFIX } from './parse.js'
import {
  arrayOf, BOOL, canonicalTypeName, commonType, elementOf, INT4, isCollatable, sameType, scalar, TEXT, typeLabel,
  UNKNOWN, type Kind, type PgType,
} from './types.js'

/** A row as replication and snapshots deliver it: column name → Postgres text form, or null. */
export type Row = Readonly<Record<string, string | null | undefined>>

/**
 * A top-level conjunct `column = constant` / `column IN (constants)` / `column = ANY(constant array)`:
 * the where clause can only be true for rows whose column has one of `keys` (see FilterIndex).
 */
export interface EqualityCondition {
  readonly column: string
  /** Conditions with the same column and domain compute keys the same way and can share a hash table. */
  readonly domain: string
  readonly keys: readonly string[]
  /** bool and enum columns: with so few values, a poor choice of key when the clause has another. */
  readonly fewValues: boolean
  /** The key of a column's text value, or undefined when it has none (the condition cannot hold). */
  readonly keyOf: (text: string) => string | undefined
}

/**
 * A top-level conjunct `column LIKE constant` / `column ILIKE constant` on a text or varchar column, or
 * an OR of those on one column: the where clause can only be true for rows whose `fold(value)` matches
 * one of `patterns` (see FilterIndex).
 */
export interface LikeCondition {
  readonly column: string
  /** The patterns as the evaluator matches them (lower-cased by `fold` for ILIKE). */
  readonly patterns: readonly string[]
  /** ILIKE: the evaluator's lower-casing of both sides; absent for LIKE. */
  readonly fold?: (text: string) => string
  /** Conditions with the same column and domain fold values the same way and can share an index. */
  readonly domain: string
}

export interface CompiledWhere {
  /** True only when the where clause is TRUE for the row (NULL, false and runtime errors are no match). */
  evaluate(row: Row): boolean
  /**
   * Like `evaluate`, but a runtime error (where Postgres would raise: division by zero, overflow, bad
   * input for a cast) is returned instead of read as no match, for callers that must refuse the row.
   */
  evaluateOrError(row: Row): boolean | Error
  readonly referencedColumns: ReadonlySet<string>
  readonly equalityConditions: readonly EqualityCondition[]
  readonly likeConditions: readonly LikeCondition[]
}

type Thunk = () => Value | null

interface Expr {
  readonly type: PgType
  readonly eval: Thunk
  /** Holds no column reference (it may still fail, inside COALESCE arguments that are never reached). */
  readonly isConst: boolean
  /**
   * Uses a function Postgres marks STABLE (date/time and enum text conversions, timestamptz conversions,
   * `text || non-text`, concat()): Postgres never folds those while planning, so neither do we.
   */
  readonly stable?: boolean
  /** Set when the value is known: a folded constant. */
  readonly known?: { readonly value: Value | null }
  readonly location: number
  /** An untyped literal or parameter: its text (null for NULL) and parameter number. */
  readonly literal?: { readonly text: string | null; readonly param?: number }
  /** Set on a bare column reference. */
  readonly column?: string
  readonly equality?: EqualityCondition
  readonly like?: LikeCondition
  /** The operands of a top-level AND, for the filter index. */
  readonly conjuncts?: readonly Expr[]
  /** The collation Postgres derives for it (collatable types only). */
  readonly coll?: Derived
}

/** The collations a where clause is compiled with. */
export interface CompilerCollations {
  readonly default: Collation
  /** Each column's collation, when it has one (the database's default resolved). */
  readonly columns: ReadonlyMap<string, Collation>
  /** The collations COLLATE may name. */
  readonly named: ReadonlyMap<string, Collation>
}

/** What each operator needs of its operands' collation when they are strings. */
const COLLATION_USE: Readonly<Record<string, CollationUse>> = {
  '=': 'equality', '<>': 'equality', '!=': 'equality', '@>': 'equality', '<@': 'equality', '&&': 'equality',
  '<': 'ordering', '>': 'ordering', '<=': 'ordering', '>=': 'ordering',
  '~~': 'like', '!~~': 'like', '~~*': 'case', '!~~*': 'case',
}
const OPERATOR_LABEL: Readonly<Record<string, string>> = { '!=': '<>', '~~': 'LIKE', '!~~': 'NOT LIKE', '~~*': 'ILIKE', '!~~*': 'NOT ILIKE' }

/** Per compiled where: the row being evaluated and its parsed column values. */
class RowState {
  row: Row = NO_ROW
  epoch = 0
  readonly stamps: number[] = []
  readonly values: (Value | null)[] = []
}

const NULL_KNOWN = { value: null }
const NO_ROW: Row = {}

export class Compiler {
  private readonly refs = new Set<string>()
  private readonly state = new RowState()
  private readonly slots = new Map<string, number>()
  private readonly paramTypes: (PgType | undefined)[] = []
  private readonly paramValues: (Value | null)[] = []
  private readonly usedParams = new Set<number>()
  private readonly enums = new Map<string, PgType>()
  /**
   * > 0 while compiling operands the planner never simplifies: after a constant that decides an AND / OR,
   * or after a non-NULL constant in COALESCE. Their constant parts may fail without failing the clause.
   */
  private unreachable = 0

  constructor(
    private readonly columns: ReadonlyMap<string, PgType>,
    private readonly params: readonly string[],
    private readonly collations: CompilerCollations,
  ) {
    for (const t of columns.values()) {
      if (t.kind !== 'enum') continue
      const known = this.enums.get(t.name)
      if (!known || (!known.labels && t.labels)) this.enums.set(t.name, elementOf(t))
    }
  }

  compileWhere(root: Node): CompiledWhere {
    const expr = this.toBool(this.compile(root), 'WHERE')
    for (let i = 1; i <= this.params.length; i++) {
      if (!this.usedParams.has(i)) throw new WhereError(`parameter value for $${i} was not used`, 0)
    }
    const conjuncts = expr.conjuncts ?? [expr]
    const conditions = conjuncts.flatMap((e) => (e.equality ? [e.equality] : []))
    const likeConditions = conjuncts.flatMap((e) => (e.like ? [e.like] : []))
    const state = this.state
    const run = expr.eval
    return {
      evaluate(row: Row): boolean {
        state.row = row
        state.epoch++
        try {
          return run() === true
        } catch {
          return false // a runtime error (division by zero, overflow, bad input): no match
        } finally {
          state.row = NO_ROW
        }
      },
      evaluateOrError(row: Row): boolean | Error {
        state.row = row
        state.epoch++
        try {
          return run() === true
        } catch (error) {
          return error instanceof Error ? error : new Error(String(error))
        } finally {
          state.row = NO_ROW
        }
      },
      referencedColumns: this.refs,
      equalityConditions: conditions,
      likeConditions,
    }
  }

  // ---- nodes

  private compile(node: Node): Expr {
    const [tag, body] = Object.entries(node)[0] as [string, unknown]
    switch (tag) {
      case 'ColumnRef': return this.columnRef(body as ColumnRef)
      case 'ParamRef': return this.paramRef(body as ParamRef)
      case 'A_Const': return this.constant(body as A_Const)
      case 'TypeCast': return this.typeCast(body as TypeCast)
      case 'A_Expr': return this.aExpr(body as A_Expr)
      case 'BoolExpr': return this.boolExpr(body as BoolExpr)
      case 'NullTest': return this.nullTest(body as NullTest)
      case 'BooleanTest': return this.booleanTest(body as BooleanTest)
      case 'FuncCall': return this.funcCall(body as FuncCall)
      case 'CoalesceExpr': return this.coalesce(body as CoalesceExpr)
      case 'MinMaxExpr': return this.minMax(body as MinMaxExpr)
      case 'A_ArrayExpr': return this.arrayExpr(body as A_ArrayExpr)
      case 'SQLValueFunction': {
        const op = (body as SQLValueFunction).op ?? ''
        const name = op.replace(/^SVFOP_/, '').replace(/_N$/, '')
        throw new WhereError(`${name} is not allowed: not deterministic`, at(body))
      }
      case 'SubLink': throw new WhereError('subqueries are not supported', at(body))
      case 'CaseExpr': throw new WhereError('CASE expressions are not supported', at(body))
      case 'CollateClause': return this.collate(body as CollateClause)
      case 'A_Indirection': throw new WhereError('array subscripts are not supported', at(body))
      case 'RowExpr': throw new WhereError('row constructors are not supported', at(body))
      default: throw new WhereError(`${tag} is not supported`, at(body))
    }
  }

  private columnRef(ref: ColumnRef): Expr {
    const fields = (ref.fields ?? []).map((f) => ('String' in f ? f.String.sval ?? '' : '*'))
    if (fields.includes('*')) throw new WhereError('* is not supported in a where clause', at(ref))
    if (fields.length !== 1) throw new WhereError(`qualified column references are not supported: ${fields.join('.')}`, at(ref))
    const name = fields[0]!
    const type = this.columns.get(name)
    if (!type) throw new WhereError(`unknown column "${name}"`, at(ref))
    this.refs.add(name)
    let slot = this.slots.get(name)
    if (slot === undefined) this.slots.set(name, (slot = this.slots.size))
    const s = slot
    const state = this.state
    const parse = codecOf(type).parse
    const evalColumn = (): Value | null => {
      if (state.stamps[s] === state.epoch) return state.values[s]!
      const text = state.row[name]
      const value = text == null ? null : parse(text)
      state.values[s] = value
      state.stamps[s] = state.epoch
      return value
    }
    const collation = this.collations.columns.get(name) ?? (isCollatable(type) ? this.collations.default : undefined)
    const coll: Derived | undefined = collation && { collation, strength: 'implicit', column: name, location: at(ref) }
    return { type, eval: evalColumn, isConst: false, location: at(ref), column: name, coll }
  }

  /** `expr COLLATE name`: an explicit collation, which wins over the implicit ones of the other operands. */
  private collate(c: CollateClause): Expr {
    const location = at(c)
    const names = (c.collname ?? []).map((n) => ('String' in n ? n.String.sval ?? '' : ''))
    const name = names[names.length - 1] ?? ''
    const collation = names.length === 1 || (names.length === 2 && names[0] === 'pg_catalog') ? this.collations.named.get(name) : undefined
    if (!collation) {
      throw new WhereError(`collation "${names.join('.')}" is not supported here: use COLLATE "C", "POSIX", "default" or a collation of one of the table's columns`, location)
    }
    let arg = this.compile(c.arg!)
    if (arg.type.kind === 'unknown') arg = this.coerce(arg, TEXT, 'COLLATE')
    if (!isCollatable(arg.type)) throw new WhereError(`collations are not supported by type ${typeLabel(arg.type)}`, location)
    return { ...arg, coll: { collation, strength: 'explicit', column: arg.coll?.column, location } }
  }

  private defaultCollation(location: number): Derived {
    return { collation: this.collations.default, strength: 'implicit', location }
  }

  /** The collation of an expression of type `type` over `args` (Postgres's rules; may throw on a clash). */
  private derive(type: PgType, args: readonly Expr[], location: number): Derived | undefined {
    const merged = mergeCollations(args.map((a) => a.coll))
    return isCollatable(type) ? merged ?? this.defaultCollation(location) : undefined
  }

  /** The collation an operator or function on strings runs under, if the evaluator can reproduce it. */
  private useCollation(args: readonly Expr[], use: CollationUse, what: string, location: number): Collation {
    const merged = mergeCollations(args.map((a) => a.coll)) ?? this.defaultCollation(location)
    return requireCollation(merged, use, what, location)
  }

  /** Resolves `l op r` (r: the element type for ANY/ALL) and checks the collation it compares strings with. */
  private resolveCollated(op: string, l: PgType, r: PgType, args: readonly Expr[], location: number, suffix = ''): Operator {
    const resolved = this.resolve(op, l, r, location)
    const use = COLLATION_USE[op]
    if (!use || !(isCollatable(resolved.left) || isCollatable(resolved.right))) return resolved
    const collation = this.useCollation(args, use, `${OPERATOR_LABEL[op] ?? op}${suffix}`, location)
    return use === 'case' && caseMappingOf(collation) === 'ascii' ? this.resolve(op, l, r, location, 'ascii') : resolved
  }

  private paramRef(ref: ParamRef): Expr {
    const n = ref.number ?? 0
    if (n < 1 || n > this.params.length) throw new WhereError(`parameter $${n} has no value`, at(ref))
    this.usedParams.add(n)
    const type = this.paramTypes[n]
    if (type) return this.known(type, this.paramValues[n]!, at(ref))
    const text = this.params[n - 1]!
    return { type: UNKNOWN, eval: () => text, isConst: true, location: at(ref), literal: { text, param: n } }
  }

  private constant(c: A_Const): Expr {
    const location = at(c)
    if (c.isnull) return { type: UNKNOWN, eval: () => null, isConst: true, known: NULL_KNOWN, location, literal: { text: null } }
    if (c.ival) return this.known(INT4, c.ival.ival ?? 0, location)
    if (c.boolval) return this.known(BOOL, c.boolval.boolval ?? false, location)
    if (c.sval) {
      const text = c.sval.sval ?? ''
      return { type: UNKNOWN, eval: () => text, isConst: true, location, literal: { text } }
    }
    if (c.fval) return this.numberLiteral(c.fval.fval ?? '0', location)
    throw new WhereError('bit string literals are not supported', location)
  }

  /** A literal that is not an int4: int8 if it is an integer that fits, numeric otherwise. */
  private numberLiteral(text: string, location: number): Expr {
    const int8 = scalar('int8')
    try {
      const v = codecOf(int8).parse(text) as bigint
      return v >= -2147483648n && v <= 2147483647n ? this.known(INT4, Number(v), location) : this.known(int8, v, location)
    } catch {
      return this.known(scalar('numeric'), this.parseAs(scalar('numeric'), text, location), location)
    }
  }

  private typeCast(cast: TypeCast): Expr {
    const target = this.typeOf(cast.typeName ?? {})
    const arg = cast.arg!
    if ('A_ArrayExpr' in arg && !(arg.A_ArrayExpr.elements?.length) && target.array) {
      return this.known(target, EMPTY_ARRAY, at(cast))
    }
    return this.cast(this.compile(arg), target, at(cast))
  }

  private typeOf(typeName: TypeName): PgType {
    const names = (typeName.names ?? []).map((n) => ('String' in n ? n.String.sval ?? '' : ''))
    const location = at(typeName)
    const label = names.filter((n) => n !== 'pg_catalog').join('.')
    if (typeName.typmods?.length) throw new WhereError(`type modifiers are not supported: ${label}(…)`, location)
    const last = names[names.length - 1] ?? ''
    let base: PgType | undefined = this.enums.get(last)
    if (!base && (names.length === 1 || names[0] === 'pg_catalog')) {
      const kind = canonicalTypeName(last)
      base = BUILTIN.has(kind) && !(names.length === 1 && last === 'char') ? scalar(kind as Kind) : undefined
    }
    if (!base) throw new WhereError(`type "${label}" is not supported`, location)
    return typeName.arrayBounds?.length ? arrayOf(base) : base
  }

  // ---- typing

  /** Converts an operand to the type an operator or function takes (implicit conversions only). */
  private coerce(e: Expr, t: PgType, context: string): Expr {
    if (sameType(e.type, t)) return e
    if (e.literal) return this.fromLiteral(e, t, false)
    const convert = implicitCast(e.type, t)
    if (!convert) throw new WhereError(`${context}: cannot convert ${typeLabel(e.type)} to ${typeLabel(t)}`, e.location)
    return this.unary(t, e, convert, e.location, isStableCast(e.type, t))
  }

  /** Gives an untyped literal or parameter its type (a parameter keeps the type it gets first). */
  private fromLiteral(e: Expr, t: PgType, explicit: boolean): Expr {
    const { text, param } = e.literal!
    if (param !== undefined) {
      const locked = this.paramTypes[param]
      if (locked) {
        const typed = this.known(locked, this.paramValues[param]!, e.location)
        return explicit ? this.cast(typed, t, e.location) : this.coerce(typed, t, `$${param}`)
      }
      const value = this.parseAs(t, text!, e.location)
      this.paramTypes[param] = t
      this.paramValues[param] = value
      return this.known(t, value, e.location)
    }
    return this.known(t, text === null ? null : this.parseAs(t, text, e.location), e.location)
  }

  private parseAs(t: PgType, text: string, location: number): Value {
    if (t.kind === 'unsupported') throw new WhereError(`type ${typeLabel(t)} is not supported`, location)
    try {
      return codecOf(t).parse(text)
    } catch (error) {
      if (error instanceof EvalFailure) throw new WhereError(error.message, location)
      throw error
    }
  }

  private cast(e: Expr, t: PgType, location: number): Expr {
    if (e.literal) return this.fromLiteral(e, t, true)
    const convert = explicitCast(e.type, t)
    if (!convert) throw new WhereError(`cannot cast type ${typeLabel(e.type)} to ${typeLabel(t)}`, location)
    if (sameType(e.type, t)) return e
    return this.unary(t, e, convert, location, isStableCast(e.type, t))
  }

  private toBool(e: Expr, context: string): Expr {
    if (e.type.kind === 'unknown') return this.coerce(e, BOOL, context)
    if (!sameType(e.type, BOOL)) {
      throw new WhereError(`argument of ${context} must be type boolean, not type ${typeLabel(e.type)}`, e.location)
    }
    return e
  }

  // ---- building blocks

  private known(type: PgType, value: Value | null, location: number, coll?: Derived): Expr {
    const collation = coll ?? (isCollatable(type) ? this.defaultCollation(location) : undefined)
    return { type, eval: () => value, isConst: true, known: value === null ? NULL_KNOWN : { value }, location, coll: collation }
  }

  /** An expression node over `args`, folded to a constant when it can be. */
  private node(spec: {
    type: PgType; eval: Thunk; location: number; args: readonly Expr[]; stable?: boolean; conjuncts?: readonly Expr[]
    coll?: Derived
  }): Expr {
    const { args, ...rest } = spec
    return this.fold({
      ...rest,
      isConst: args.every((a) => a.isConst),
      stable: spec.stable || args.some((a) => a.stable),
      coll: 'coll' in spec ? spec.coll : this.derive(spec.type, args, spec.location),
    })
  }

  /** Evaluates a column-free expression now; a failure is the where clause's error, as in Postgres. */
  private fold(e: Expr): Expr {
    if (!e.isConst || e.known || e.stable) return e
    try {
      return this.known(e.type, e.eval(), e.location, e.coll)
    } catch (error) {
      if (!(error instanceof EvalFailure)) throw error
      if (this.unreachable > 0) return e
      throw new WhereError(error.message, e.location)
    }
  }

  private unary(type: PgType, arg: Expr, fn: Convert, location: number, stable: boolean): Expr {
    if (arg.known?.value === null) return this.known(type, null, location, this.derive(type, [arg], location))
    const a = arg.eval
    return this.node({
      type, location, args: [arg], stable,
      eval: () => {
        const v = a()
        return v === null ? null : fn(v)
      },
    })
  }

  /** Applies a resolved binary operator, converting the operands to the types it takes. */
  private binary(op: Operator, left: Expr, right: Expr, location: number, name: string): Expr {
    const l = this.coerce(left, op.left, `operator ${name}`)
    const r = this.coerce(right, op.right, `operator ${name}`)
    if (op.strict && (l.known?.value === null || r.known?.value === null)) {
      return this.known(op.result, null, location, this.derive(op.result, [l, r], location))
    }
    const le = l.eval
    const re = r.eval
    const apply = op.apply
    const evalOp: Thunk = op.strict
      ? () => {
          const a = le()
          const b = re()
          return a === null || b === null ? null : apply(a, b)
        }
      : () => apply(le(), re())
    return this.node({ type: op.result, eval: evalOp, args: [l, r], location, stable: op.stable })
  }

  private resolve(op: string, l: PgType, r: PgType, location: number, mapping?: CaseMapping): Operator {
    try {
      return resolveBinary(op, l, r, mapping)
    } catch (error) {
      if (error instanceof OperatorError) throw new WhereError(error.message, location)
      throw error
    }
  }

  /** `left op right` for any binary operator, with the filter index's equality condition when it applies. */
  private operator(op: string, left: Expr, right: Expr, location: number): Expr {
    const resolved = this.resolveCollated(op, left.type, right.type, [left, right], location)
    const e = this.binary(resolved, left, right, location, op)
    if (resolved.like) return this.withLike(e, resolved, left, right)
    if (op !== '=' || e.known || !sameType(resolved.left, resolved.right)) return e
    const [column, other] = left.column ? [left, right] : [right, left]
    if (!column.column || !other.isConst) return e
    const value = this.coerce(other, resolved.right, op).known?.value
    const equality = value == null ? undefined : this.equality(column, resolved.left, [value])
    return equality ? { ...e, equality } : e
  }

  /**
   * The filter index's view of `column LIKE constant`: only text and varchar columns, whose row text is
   * the very string the evaluator matches (bpchar's padding and casts are left to the evaluator).
   */
  private withLike(e: Expr, resolved: Operator, left: Expr, right: Expr): Expr {
    if (e.known || !left.column || !right.isConst || left.type.array) return e
    if (left.type.kind !== 'text' && left.type.kind !== 'varchar') return e
    const pattern = this.coerce(right, resolved.right, 'LIKE').known?.value
    if (typeof pattern !== 'string') return e
    const { fold, mapping } = resolved.like!
    return { ...e, like: { column: left.column, patterns: [fold ? fold(pattern) : pattern], fold, domain: mapping } }
  }

  /** The filter index's view of `column = one of values` where values have type `t`. */
  private equality(column: Expr, t: PgType, values: readonly (Value | null)[]): EqualityCondition | undefined {
    if (t.kind === 'unsupported') return undefined
    const codec = codecOf(t)
    const parse = codecOf(column.type).parse
    const convert = sameType(column.type, t) ? undefined : implicitCast(column.type, t)
    if (!sameType(column.type, t) && !convert) return undefined
    const keys = values.flatMap((v) => (v === null ? [] : [codec.key(v)]))
    return {
      column: column.column!,
      domain: `${t.kind}:${t.name}:${t.array}`,
      keys,
      fewValues: !t.array && (t.kind === 'bool' || t.kind === 'enum'),
      keyOf(text: string): string | undefined {
        try {
          const v = convert ? convert(parse(text)) : parse(text)
          return v === null ? undefined : codec.key(v)
        } catch {
          return undefined
        }
      },
    }
  }

  // ---- A_Expr

  private aExpr(e: A_Expr): Expr {
    const location = at(e)
    const names = (e.name ?? []).map((n) => ('String' in n ? n.String.sval ?? '' : ''))
    const op = names[names.length - 1] ?? ''
    switch (e.kind) {
      case 'AEXPR_OP': {
        if (!e.lexpr) return this.unaryOperator(op, this.compile(e.rexpr!), location)
        return this.operator(op, this.compile(e.lexpr), this.compile(e.rexpr!), location)
      }
      case 'AEXPR_LIKE': case 'AEXPR_ILIKE':
        return this.operator(op, this.compile(e.lexpr!), this.compile(e.rexpr!), location)
      case 'AEXPR_OP_ANY': case 'AEXPR_OP_ALL':
        return this.anyAll(op, e.kind === 'AEXPR_OP_ANY', this.compile(e.lexpr!), this.compile(e.rexpr!), location)
      case 'AEXPR_DISTINCT': case 'AEXPR_NOT_DISTINCT':
        return this.distinct(this.compile(e.lexpr!), this.compile(e.rexpr!), e.kind === 'AEXPR_NOT_DISTINCT', location)
      case 'AEXPR_NULLIF':
        return this.nullif(this.compile(e.lexpr!), this.compile(e.rexpr!), location)
      case 'AEXPR_IN':
        return this.inList(op, this.compile(e.lexpr!), listItems(e.rexpr), location)
      case 'AEXPR_BETWEEN': case 'AEXPR_NOT_BETWEEN': case 'AEXPR_BETWEEN_SYM': case 'AEXPR_NOT_BETWEEN_SYM':
        return this.between(e.kind, this.compile(e.lexpr!), listItems(e.rexpr), location)
      case 'AEXPR_SIMILAR':
        throw new WhereError('SIMILAR TO is not supported', location)
      default:
        throw new WhereError(`${e.kind ?? 'expression'} is not supported`, location)
    }
  }

  private unaryOperator(op: string, arg: Expr, location: number): Expr {
    let resolved: Operator
    try {
      resolved = resolveUnary(op, arg.type)
    } catch (error) {
      if (error instanceof OperatorError) throw new WhereError(error.message, location)
      throw error
    }
    const apply = resolved.apply
    return this.unary(resolved.result, this.coerce(arg, resolved.left, `operator ${op}`), (v) => apply(v, null)!, location, false)
  }

  /** `x op ANY(array)` / `x op ALL(array)`, evaluated like ExecEvalScalarArrayOp. */
  private anyAll(op: string, any: boolean, left: Expr, right0: Expr, location: number): Expr {
    const right = right0.type.kind === 'unknown'
      ? this.coerce(right0, arrayOf(left.type.kind === 'unknown' ? TEXT : left.type), `op ${any ? 'ANY' : 'ALL'}`)
      : right0
    if (!right.type.array) throw new WhereError(`op ${any ? 'ANY' : 'ALL'} (array) requires array on right side`, location)
    const element = elementOf(right.type)
    const resolved = this.resolveCollated(op, left.type, element, [left, right], location, any ? ' ANY' : ' ALL')
    if (!sameType(resolved.result, BOOL)) {
      throw new WhereError(`op ${any ? 'ANY' : 'ALL'} (array) requires operator to yield boolean`, location)
    }
    const l = this.coerce(left, resolved.left, `operator ${op}`)
    const convert = sameType(element, resolved.right) ? undefined : implicitCast(element, resolved.right)
    const apply = resolved.apply
    const le = l.eval
    const re = right.eval
    const strict = resolved.strict
    const evalAnyAll: Thunk = () => {
      const x = le()
      const arr = re() as PgArray | null
      if (arr === null) return null
      const items = arr.items
      if (items.length === 0) return !any
      if (x === null && strict) return null
      let sawNull = false
      for (let i = 0; i < items.length; i++) {
        const raw = items[i]!
        const y = raw === null ? null : convert ? convert(raw) : raw
        const r = (x === null || y === null) && strict ? null : apply(x, y)
        if (r === null) sawNull = true
        else if (r === any) return any
      }
      return sawNull ? null : !any
    }
    const e = this.node({ type: BOOL, eval: evalAnyAll, args: [l, right], location, stable: convert !== undefined && isStableCast(element, resolved.right) })
    if (!any || op !== '=' || e.known || !left.column || !right.known || right.known.value === null) return e
    if (!sameType(resolved.left, resolved.right)) return e
    const items = (right.known.value as PgArray).items.map((v) => (v === null ? null : convert ? convert(v) : v))
    const equality = this.equality(left, resolved.left, items)
    return equality ? { ...e, equality } : e
  }

  private distinct(left: Expr, right: Expr, not: boolean, location: number): Expr {
    const resolved = this.resolveCollated('=', left.type, right.type, [left, right], location, not ? ' (IS NOT DISTINCT FROM)' : ' (IS DISTINCT FROM)')
    const l = this.coerce(left, resolved.left, 'IS DISTINCT FROM')
    const r = this.coerce(right, resolved.right, 'IS DISTINCT FROM')
    const equal = resolved.apply
    const le = l.eval
    const re = r.eval
    return this.node({
      type: BOOL, location, args: [l, r],
      eval: () => {
        const a = le()
        const b = re()
        const same = a === null || b === null ? a === b : equal(a, b) === true
        return not ? same : !same
      },
    })
  }

  private nullif(left: Expr, right: Expr, location: number): Expr {
    const resolved = this.resolveCollated('=', left.type, right.type, [left, right], location, ' (NULLIF)')
    const l = this.coerce(left, resolved.left, 'NULLIF')
    const r = this.coerce(right, resolved.right, 'NULLIF')
    const equal = resolved.apply
    const le = l.eval
    const re = r.eval
    return this.node({
      type: resolved.left, location, args: [l, r],
      eval: () => {
        const a = le()
        const b = re()
        return a !== null && b !== null && equal(a, b) === true ? null : a
      },
    })
  }

  /**
   * `x IN (…)` / `x NOT IN (…)` as Postgres transforms it: the column-free items, when there are several,
   * become one `x = ANY(ARRAY[…])` of their common type, tested first; the others are ORed (ANDed) in order.
   */
  private inList(op: string, left: Expr, items: readonly Node[], location: number): Expr {
    const any = op === '='
    const constantNodes = items.filter((n) => !hasColumnRef(n))
    let rest = items
    const parts: (() => Expr)[] = []
    if (constantNodes.length > 1) {
      const constants = constantNodes.map((n) => this.compile(n))
      const common = commonType([left.type, ...constants.map((c) => c.type)])
      if (common && !common.array) {
        const array = this.arrayNode(constants.map((c) => this.coerce(c, common, 'IN')), location)
        parts.push(() => this.anyAll(op, any, left, array, location))
        rest = items.filter((n) => hasColumnRef(n))
      }
    }
    for (const item of rest) parts.push(() => this.operator(op, left, this.compile(item), location))
    return this.boolChain(any ? 'OR' : 'AND', parts, location)
  }

  private between(kind: string, x: Expr, bounds: readonly Node[], location: number): Expr {
    // Each bound is compiled where it is first needed: the planner does not fold past a deciding constant.
    const lazy = (node: Node) => {
      let compiled: Expr | undefined
      return () => (compiled ??= this.compile(node))
    }
    const [a, b] = bounds.map(lazy) as [() => Expr, () => Expr]
    const not = kind === 'AEXPR_NOT_BETWEEN' || kind === 'AEXPR_NOT_BETWEEN_SYM'
    const range = (lo: () => Expr, hi: () => Expr) => () => not
      ? this.boolChain('OR', [() => this.operator('<', x, lo(), location), () => this.operator('>', x, hi(), location)], location)
      : this.boolChain('AND', [() => this.operator('>=', x, lo(), location), () => this.operator('<=', x, hi(), location)], location)
    if (kind === 'AEXPR_BETWEEN' || kind === 'AEXPR_NOT_BETWEEN') return range(a, b)()
    return this.boolChain(not ? 'AND' : 'OR', [range(a, b), range(b, a)], location)
  }

  // ---- boolean logic

  private boolExpr(e: BoolExpr): Expr {
    const location = at(e)
    const context = e.boolop === 'AND_EXPR' ? 'AND' : e.boolop === 'OR_EXPR' ? 'OR' : 'NOT'
    const args = (e.args ?? []).map((a) => () => this.toBool(this.compile(a), context))
    if (context !== 'NOT') return this.boolChain(context, args, location)
    const arg = args[0]!()
    const ev = arg.eval
    return this.node({
      type: BOOL, location, args: [arg],
      eval: () => {
        const v = ev()
        return v === null ? null : !v
      },
    })
  }

  /**
   * AND / OR with three-valued logic, short-circuiting left to right. Simplified as Postgres's planner
   * does: constants decide or drop out, and operands after a deciding constant are not even folded.
   */
  private boolChain(op: 'AND' | 'OR', parts: readonly (() => Expr)[], location: number): Expr {
    const stop = op === 'OR' // the value that decides the result
    const args: Expr[] = []
    let sawNull = false
    let decided = false
    for (const part of parts) {
      const compiled = this.unreachableIf(decided, part)
      if (decided) continue
      for (const arg of compiled.conjuncts && op === 'AND' ? compiled.conjuncts : [compiled]) {
        if (!arg.known) args.push(arg)
        else if (arg.known.value === null) sawNull = true
        else if (arg.known.value === stop) decided = true
      }
    }
    if (decided) return this.known(BOOL, stop, location)
    if (args.length === 0) return this.known(BOOL, sawNull ? null : !stop, location)
    if (sawNull) args.push(this.known(BOOL, null, location))
    if (args.length === 1) return args[0]!
    const evals = args.map((a) => a.eval)
    const n = evals.length
    const evalChain: Thunk = () => {
      let nullSeen = false
      for (let i = 0; i < n; i++) {
        const v = evals[i]!()
        if (v === null) nullSeen = true
        else if (v === stop) return stop
      }
      return nullSeen ? null : !stop
    }
    const like = op === 'OR' ? likeOfDisjuncts(args) : undefined
    const chain = this.node({ type: BOOL, eval: evalChain, location, args, conjuncts: op === 'AND' ? args : undefined })
    return like && !chain.known ? { ...chain, like } : chain
  }

  private nullTest(t: NullTest): Expr {
    const arg = this.compile(t.arg!)
    const ev = arg.eval
    const isNull = t.nulltesttype === 'IS_NULL'
    return this.node({ type: BOOL, location: at(t), args: [arg], eval: () => (ev() === null) === isNull })
  }

  private booleanTest(t: BooleanTest): Expr {
    const arg = this.toBool(this.compile(t.arg!), t.booltesttype?.replace(/_/g, ' ') ?? 'IS TRUE')
    const ev = arg.eval
    const test: (v: Value | null) => boolean = {
      IS_TRUE: (v: Value | null) => v === true,
      IS_NOT_TRUE: (v: Value | null) => v !== true,
      IS_FALSE: (v: Value | null) => v === false,
      IS_NOT_FALSE: (v: Value | null) => v !== false,
      IS_UNKNOWN: (v: Value | null) => v === null,
      IS_NOT_UNKNOWN: (v: Value | null) => v !== null,
    }[t.booltesttype ?? 'IS_TRUE']
    return this.node({ type: BOOL, location: at(t), args: [arg], eval: () => test(ev()) })
  }

  // ---- functions

  private funcCall(f: FuncCall): Expr {
    const location = at(f)
    const names = (f.funcname ?? []).map((n) => ('String' in n ? n.String.sval ?? '' : ''))
    const name = names[names.length - 1] ?? ''
    if (names.length > 1 && names[0] !== 'pg_catalog') throw new WhereError(`function ${names.join('.')} is not supported`, location)
    if (f.over) throw new WhereError(`window functions are not allowed: ${name}()`, location)
    if (f.agg_star || f.agg_distinct || f.agg_order || f.agg_filter || f.agg_within_group) {
      throw new WhereError(`aggregate functions are not allowed: ${name}()`, location)
    }
    if (f.func_variadic) throw new WhereError('VARIADIC arguments are not supported', location)
    const spec = lookupFunction(name)
    if (typeof spec === 'string') throw new WhereError(spec, location)
    const compiled = (f.args ?? []).map((a) => this.compile(a))
    if (spec.params && spec.params.length !== compiled.length) {
      throw new WhereError(`function ${name} takes ${spec.params.length} argument${spec.params.length === 1 ? '' : 's'}`, location)
    }
    const args = spec.params
      ? compiled.map((a, i) => this.coerce(a, spec.params![i]!, `function ${name}`))
      : compiled.map((a) => (a.type.kind === 'unknown' ? this.coerce(a, TEXT, `function ${name}`) : a))
    const mapping = spec.caseMapping ? caseMappingOf(this.useCollation(args, 'case', `${name}()`, location))! : 'unicode'
    if (spec.strict && args.some((a) => a.known?.value === null)) {
      return this.known(spec.result, null, location, this.derive(spec.result, args, location))
    }
    const impl = spec.build(args.map((a) => a.type), mapping)
    const evals = args.map((a) => a.eval)
    const strict = spec.strict
    let evalCall: Thunk
    if (evals.length === 1 && strict) {
      const e0 = evals[0]!
      const buffer: (Value | null)[] = [null]
      evalCall = () => {
        const v = e0()
        if (v === null) return null
        buffer[0] = v
        return impl(buffer)
      }
    } else {
      evalCall = () => {
        const values = evals.map((e) => e())
        return strict && values.includes(null) ? null : impl(values)
      }
    }
    return this.node({ type: spec.result, eval: evalCall, location, args, stable: spec.stable })
  }

  private commonTypeOf(args: readonly Expr[], context: string, location: number): PgType {
    const type = commonType(args.map((a) => a.type))
    if (type) return type
    const [a, b] = args.filter((x) => x.type.kind !== 'unknown')
    throw new WhereError(`${context} types ${typeLabel(a!.type)} and ${typeLabel(b!.type)} cannot be matched`, location)
  }

  private commonArgs(args: readonly Expr[], context: string, location: number): Expr[] {
    const type = this.commonTypeOf(args, context, location)
    return args.map((a) => this.coerce(a, type, context))
  }

  /** COALESCE: the first non-NULL argument; arguments after a non-NULL constant are never evaluated. */
  private coalesce(c: CoalesceExpr): Expr {
    const location = at(c)
    const nodes = c.args ?? []
    const compiled: Expr[] = []
    let reachable = nodes.length
    for (const node of nodes) {
      compiled.push(this.unreachableIf(compiled.length > reachable, () => this.compile(node)))
      const last = compiled[compiled.length - 1]!
      if (last.known && last.known.value !== null && reachable === nodes.length) reachable = compiled.length - 1
    }
    const type = this.commonTypeOf(compiled, 'COALESCE', location)
    // The collation comes from every argument, also those the planner drops.
    const coll = this.derive(type, compiled, location)
    const live: Expr[] = []
    compiled.forEach((a, i) => {
      const arg = this.unreachableIf(i > reachable, () => this.coerce(a, type, 'COALESCE'))
      if (i <= reachable && arg.known?.value !== null) live.push(arg)
    })
    if (live.length === 0) return this.known(type, null, location, coll)
    if (live.length === 1) return { ...live[0]!, coll }
    const evals = live.map((a) => a.eval)
    return this.node({
      type, location, args: live, coll,
      eval: () => {
        for (let i = 0; i < evals.length; i++) {
          const v = evals[i]!()
          if (v !== null) return v
        }
        return null
      },
    })
  }

  private unreachableIf<T>(unreachable: boolean, compile: () => T): T {
    if (unreachable) this.unreachable++
    try {
      return compile()
    } finally {
      if (unreachable) this.unreachable--
    }
  }

  /** GREATEST / LEAST: NULLs are ignored; NULL only when all arguments are. */
  private minMax(m: MinMaxExpr): Expr {
    const location = at(m)
    const greatest = m.op === 'IS_GREATEST'
    const args = this.commonArgs((m.args ?? []).map((a) => this.compile(a)), greatest ? 'GREATEST' : 'LEAST', location)
    if (isCollatable(args[0]!.type)) this.useCollation(args, 'ordering', greatest ? 'GREATEST' : 'LEAST', location)
    const better = comparePredicate('>', args[0]!.type)
    const evals = args.map((a) => a.eval)
    return this.node({
      type: args[0]!.type, location, args,
      eval: () => {
        let best: Value | null = null
        for (const e of evals) {
          const v = e()
          if (v !== null && (best === null || (greatest ? better(v, best) : better(best, v)))) best = v
        }
        return best
      },
    })
  }

  private arrayExpr(a: A_ArrayExpr): Expr {
    const location = at(a)
    const compiled = (a.elements ?? []).map((e) => this.compile(e))
    if (compiled.length === 0) throw new WhereError('cannot determine type of empty array', location)
    if (compiled.some((e) => e.type.array)) throw new WhereError('multidimensional ARRAY[] is not supported', location)
    return this.arrayNode(this.commonArgs(compiled, 'ARRAY', location), location)
  }

  /** ARRAY[…] over elements of one type. */
  private arrayNode(elements: readonly Expr[], location: number): Expr {
    const evals = elements.map((e) => e.eval)
    const n = evals.length
    return this.node({
      type: arrayOf(elements[0]!.type), location, args: elements,
      eval: () => {
        const items: (Value | null)[] = new Array(n)
        for (let i = 0; i < n; i++) items[i] = evals[i]!()
        return { dims: [n], lbs: [1], items }
      },
    })
  }
}

const BUILTIN = new Set<string>([
  'int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'text', 'varchar', 'bpchar', 'bool', 'uuid',
  'date', 'time', 'timestamp', 'timestamptz', 'bytea',
])

/** Node locations count Electric's `SELECT 1 WHERE ` prefix; report them within the where clause. */
function at(node: unknown): number {
  const loc = (node as { location?: number }).location
  return Math.max((loc ?? PREFIX.length) - PREFIX.length, 0)
}

function hasColumnRef(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false
  if ('ColumnRef' in node) return true
  return Object.values(node).some(hasColumnRef)
}

function listItems(node: Node | undefined): Node[] {
  if (node && 'List' in node) return node.List.items ?? []
  return node ? [node] : []
}

/** `a OR b OR …` where each is a LIKE (or such an OR) on the same column and case mapping: all their patterns. */
function likeOfDisjuncts(args: readonly Expr[]): LikeCondition | undefined {
  const first = args[0]?.like
  if (!first || !args.every((a) => a.like && a.like.column === first.column && a.like.domain === first.domain)) return undefined
  return { ...first, patterns: args.flatMap((a) => a.like!.patterns) }
}
