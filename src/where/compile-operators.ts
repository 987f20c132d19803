// Binary and unary operators, ANY/ALL, IS DISTINCT FROM and NULLIF: Postgres's operator resolution,
// the collation each operator needs of string operands (refused where the evaluator cannot reproduce
// Postgres's result), and the conditions the filter index uses (`col = const`, LIKE/ILIKE with the fold
// and case mapping the evaluator matches with). Invariant: an operator on strings is compiled only under
// a collation whose result provably equals Postgres's; an index condition admits every row the
// operator can be true for.
import { caseMappingOf, type CaseMapping, type CollationUse } from './collation.js'
import { WhereError } from './errors.js'
import { codecOf, type PgArray, type Value } from './codec.js'
import { implicitCast, isStableCast } from './casts.js'
import { OperatorError, resolveBinary, resolveUnary, type Operator } from './operators.js'
import { ExprBuilder, type EqualityCondition, type Expr, type LikeCondition, type Thunk } from './expr.js'
import { arrayOf, BOOL, elementOf, isCollatable, sameType, TEXT, type PgType } from './types.js'

/** What each operator needs of its operands' collation when they are strings. */
const COLLATION_USE: Readonly<Record<string, CollationUse>> = {
  '=': 'equality', '<>': 'equality', '!=': 'equality', '@>': 'equality', '<@': 'equality', '&&': 'equality',
  '<': 'ordering', '>': 'ordering', '<=': 'ordering', '>=': 'ordering',
  '~~': 'like', '!~~': 'like', '~~*': 'case', '!~~*': 'case',
}
const OPERATOR_LABEL: Readonly<Record<string, string>> = { '!=': '<>', '~~': 'LIKE', '!~~': 'NOT LIKE', '~~*': 'ILIKE', '!~~*': 'NOT ILIKE' }

/** The operator-compiling steps, on top of the shared building blocks. */
export abstract class OperatorCompiler extends ExprBuilder {
  private resolve(op: string, l: PgType, r: PgType, location: number, mapping?: CaseMapping): Operator {
    try {
      return resolveBinary(op, l, r, mapping)
    } catch (error) {
      if (error instanceof OperatorError) throw new WhereError(error.message, location)
      throw error
    }
  }

  /** Resolves `l op r` (r: the element type for ANY/ALL) and checks the collation it compares strings with. */
  private resolveCollated(op: string, l: PgType, r: PgType, args: readonly Expr[], location: number, suffix = ''): Operator {
    const resolved = this.resolve(op, l, r, location)
    const use = COLLATION_USE[op]
    if (!use || !(isCollatable(resolved.left) || isCollatable(resolved.right))) return resolved
    const collation = this.useCollation(args, use, `${OPERATOR_LABEL[op] ?? op}${suffix}`, location)
    return use === 'case' && caseMappingOf(collation) === 'ascii' ? this.resolve(op, l, r, location, 'ascii') : resolved
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

  /** `left op right` for any binary operator, with the filter index's equality condition when it applies. */
  protected operator(op: string, left: Expr, right: Expr, location: number): Expr {
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

  protected unaryOperator(op: string, arg: Expr, location: number): Expr {
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
  protected anyAll(op: string, any: boolean, left: Expr, right0: Expr, location: number): Expr {
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

  protected distinct(left: Expr, right: Expr, not: boolean, location: number): Expr {
    const suffix = not ? ' (IS NOT DISTINCT FROM)' : ' (IS DISTINCT FROM)'
    return this.overEquality(left, right, location, suffix, 'IS DISTINCT FROM', () => BOOL, (a, b, equal) => {
      const same = a === null || b === null ? a === b : equal(a, b)
      return not ? same : !same
    })
  }

  protected nullif(left: Expr, right: Expr, location: number): Expr {
    return this.overEquality(left, right, location, ' (NULLIF)', 'NULLIF', (resolved) => resolved.left,
      (a, b, equal) => (a !== null && b !== null && equal(a, b) ? null : a))
  }

  /**
   * IS [NOT] DISTINCT FROM and NULLIF: `left = right` resolved (its collation checked, `suffix` naming the
   * construct in a refusal) and its operands converted; `combine` gets both values and the equality.
   */
  private overEquality(
    left: Expr, right: Expr, location: number, suffix: string, context: string, typeOf: (resolved: Operator) => PgType,
    combine: (a: Value | null, b: Value | null, equal: (a: Value, b: Value) => boolean) => Value | null,
  ): Expr {
    const resolved = this.resolveCollated('=', left.type, right.type, [left, right], location, suffix)
    const l = this.coerce(left, resolved.left, context)
    const r = this.coerce(right, resolved.right, context)
    const apply = resolved.apply
    const equal = (a: Value, b: Value): boolean => apply(a, b) === true
    const le = l.eval
    const re = r.eval
    return this.node({ type: typeOf(resolved), location, args: [l, r], eval: () => combine(le(), re(), equal) })
  }
}

/** `a OR b OR …` where each is a LIKE (or such an OR) on the same column and case mapping: all their patterns. */
export function likeOfDisjuncts(args: readonly Expr[]): LikeCondition | undefined {
  const first = args[0]?.like
  if (!first || !args.every((a) => a.like && a.like.column === first.column && a.like.domain === first.domain)) return undefined
  return { ...first, patterns: args.flatMap((a) => a.like!.patterns) }
}
