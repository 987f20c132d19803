// Compiles a parsed where clause into closures, once per shape: every per-row step is a closure call;
// column values are parsed from their text form at most once per row, and sub-expressions without
// column references are evaluated at compile time (as Postgres's planner folds constants). This module
// dispatches on the syntax tree's nodes (columns, literals, casts, boolean logic, functions, COALESCE,
// GREATEST/LEAST, ARRAY[]); expr.ts holds the shared building blocks, compile-operators.ts the operators.
import type {
  A_ArrayExpr, A_Const, A_Expr, BooleanTest, BoolExpr, CoalesceExpr, CollateClause, ColumnRef, FuncCall,
  MinMaxExpr, Node, NullTest, ParamRef, SQLValueFunction, TypeCast, TypeName,
} from 'libpg-query'
import { caseMappingOf, type Derived } from './collation.js'
import { WhereError } from './errors.js'
import { codecOf, EMPTY_ARRAY, type Value } from './codec.js'
import { lookupFunction } from './functions.js'
import { comparePredicate } from './operators.js'
import { at } from './parse.js'
import { likeOfDisjuncts, OperatorCompiler } from './compile-operators.js'
import { NULL_KNOWN, type CompiledWhere, type CompilerCollations, type Expr, type Row, type Thunk } from './expr.js'
import {
  arrayOf, BOOL, canonicalTypeName, commonType, elementOf, INT4, isCollatable, scalar, TEXT, typeLabel,
  UNKNOWN, type Kind, type PgType,
} from './types.js'

/** Per compiled where: the row being evaluated and its parsed column values. */
class RowState {
  row: Row = NO_ROW
  epoch = 0
  readonly stamps: number[] = []
  readonly values: (Value | null)[] = []
}

const NO_ROW: Row = {}

export class Compiler extends OperatorCompiler {
  private readonly refs = new Set<string>()
  private readonly state = new RowState()
  private readonly slots = new Map<string, number>()
  private readonly usedParams = new Set<number>()
  private readonly enums = new Map<string, PgType>()

  constructor(
    private readonly columns: ReadonlyMap<string, PgType>,
    private readonly params: readonly string[],
    collations: CompilerCollations,
  ) {
    super(collations)
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

function hasColumnRef(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false
  if ('ColumnRef' in node) return true
  return Object.values(node).some(hasColumnRef)
}

function listItems(node: Node | undefined): Node[] {
  if (node && 'List' in node) return node.List.items ?? []
  return node ? [node] : []
}
