// The compiled form of a where clause's expressions and what every compiling step shares: typing
// (implicit conversions and the type an untyped literal or parameter takes), the collation Postgres
// derives, and constant folding. Invariant: an expression without column references is folded to its
// value while compiling exactly where Postgres's planner folds it (not for STABLE functions, not after a
// deciding constant), so a constant that fails is the where clause's WhereError, as in Postgres.
import { mergeCollations, requireCollation, type Collation, type CollationUse, type Derived } from './collation.js'
import { EvalFailure, WhereError } from './errors.js'
import { codecOf, type Value } from './codec.js'
import { explicitCast, implicitCast, isStableCast, type Convert } from './casts.js'
import { BOOL, isCollatable, sameType, typeLabel, type PgType } from './types.js'

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

export type Thunk = () => Value | null

export interface Expr {
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

export const NULL_KNOWN = { value: null }

/** The state and building blocks shared by every part of the compiler (see compile.ts). */
export abstract class ExprBuilder {
  protected readonly paramTypes: (PgType | undefined)[] = []
  protected readonly paramValues: (Value | null)[] = []
  /**
   * > 0 while compiling operands the planner never simplifies: after a constant that decides an AND / OR,
   * or after a non-NULL constant in COALESCE. Their constant parts may fail without failing the clause.
   */
  private unreachable = 0

  constructor(protected readonly collations: CompilerCollations) {}

  private defaultCollation(location: number): Derived {
    return { collation: this.collations.default, strength: 'implicit', location }
  }

  /** The collation of an expression of type `type` over `args` (Postgres's rules; may throw on a clash). */
  protected derive(type: PgType, args: readonly Expr[], location: number): Derived | undefined {
    const merged = mergeCollations(args.map((a) => a.coll))
    return isCollatable(type) ? merged ?? this.defaultCollation(location) : undefined
  }

  /** The collation an operator or function on strings runs under, if the evaluator can reproduce it. */
  protected useCollation(args: readonly Expr[], use: CollationUse, what: string, location: number): Collation {
    const merged = mergeCollations(args.map((a) => a.coll)) ?? this.defaultCollation(location)
    return requireCollation(merged, use, what, location)
  }

  /** Converts an operand to the type an operator or function takes (implicit conversions only). */
  protected coerce(e: Expr, t: PgType, context: string): Expr {
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

  protected parseAs(t: PgType, text: string, location: number): Value {
    if (t.kind === 'unsupported') throw new WhereError(`type ${typeLabel(t)} is not supported`, location)
    try {
      return codecOf(t).parse(text)
    } catch (error) {
      if (error instanceof EvalFailure) throw new WhereError(error.message, location)
      throw error
    }
  }

  protected cast(e: Expr, t: PgType, location: number): Expr {
    if (e.literal) return this.fromLiteral(e, t, true)
    const convert = explicitCast(e.type, t)
    if (!convert) throw new WhereError(`cannot cast type ${typeLabel(e.type)} to ${typeLabel(t)}`, location)
    if (sameType(e.type, t)) return e
    return this.unary(t, e, convert, location, isStableCast(e.type, t))
  }

  protected toBool(e: Expr, context: string): Expr {
    if (e.type.kind === 'unknown') return this.coerce(e, BOOL, context)
    if (!sameType(e.type, BOOL)) {
      throw new WhereError(`argument of ${context} must be type boolean, not type ${typeLabel(e.type)}`, e.location)
    }
    return e
  }

  protected known(type: PgType, value: Value | null, location: number, coll?: Derived): Expr {
    const collation = coll ?? (isCollatable(type) ? this.defaultCollation(location) : undefined)
    return { type, eval: () => value, isConst: true, known: value === null ? NULL_KNOWN : { value }, location, coll: collation }
  }

  /** An expression node over `args`, folded to a constant when it can be. */
  protected node(spec: {
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

  protected unary(type: PgType, arg: Expr, fn: Convert, location: number, stable: boolean): Expr {
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

  protected unreachableIf<T>(unreachable: boolean, compile: () => T): T {
    if (unreachable) this.unreachable++
    try {
      return compile()
    } finally {
      if (unreachable) this.unreachable--
    }
  }
}

