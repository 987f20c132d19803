// Operators: resolution of operand types (Postgres's rules for the supported types) and implementations.
import { fail } from './errors.js'
import { codecOf, type Codec, type PgArray, type Value } from './codec.js'
import { textOf } from './casts.js'
import { addDays, dateAsTimestamp, subtractDates } from './datetime.js'
import { addNumeric, divNumeric, modNumeric, mulNumeric, negateNumeric, subNumeric, type Numeric } from './numeric.js'
import { INT2_MAX, INT2_MIN, INT4_MAX, INT4_MIN, INT8_MAX, INT8_MIN } from './numbers.js'
import type { CaseMapping } from './collation.js'
import { like, lowerFor } from './text.js'
import {
  arrayOf, BOOL, commonType, comparisonType, elementOf, INT4, isNumeric, isString, sameType,
  scalar, TEXT, typeLabel, type PgType,
} from './types.js'

/** A resolved binary operator: the types its operands are converted to, its result, its implementation. */
export interface Operator {
  readonly left: PgType
  readonly right: PgType
  readonly result: PgType
  /** Strict operators give NULL for a NULL operand without being called. */
  readonly strict: boolean
  /** STABLE in Postgres (not folded while planning): `text || non-text`. */
  readonly stable?: boolean
  readonly apply: (a: Value | null, b: Value | null) => Value | null
  /**
   * LIKE / ILIKE (not their negations): `apply(a, b)` is `like(fold(a), fold(b))`, with `fold` the case
   * mapping ILIKE lower-cases with (absent for LIKE). The filter index folds values the same way.
   */
  readonly like?: { readonly fold?: (s: string) => string; readonly mapping: CaseMapping | 'exact' }
}

const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>='])

function isComparison(op: string): boolean {
  return COMPARISONS.has(op)
}

function noOperator(op: string, l: PgType, r: PgType): never {
  throw new OperatorError(`operator does not exist: ${typeLabel(l)} ${op} ${typeLabel(r)}`)
}

/** Raised while resolving an operator; the compiler turns it into a WhereError with a location. */
export class OperatorError extends Error {}

/**
 * Resolves `l op r`; throws OperatorError when there is no such operator. ILIKE maps case with `mapping`
 * (the compiler passes its operands' collation's).
 */
export function resolveBinary(op: string, l: PgType, r: PgType, mapping: CaseMapping = 'unicode'): Operator {
  if (isComparison(op)) return comparison(op, l, r)
  switch (op) {
    case '+': case '-': case '*': case '/': case '%':
      return arithmetic(op, l, r)
    case '||':
      return concatenation(l, r)
    case '~~': case '!~~': case '~~*': case '!~~*':
      return likeOperator(op, l, r, mapping)
    case '@>': case '<@': case '&&':
      return arrayOperator(op, l, r)
    default:
      throw new OperatorError(`operator ${op} is not supported`)
  }
}

/** The comparison function of a type, checked for the operator (enums need their labels for < >). */
function comparator(op: string, t: PgType): Codec['compare'] {
  if (t.kind === 'unsupported') throw new OperatorError(`operator ${op} is not supported for type ${typeLabel(t)}`)
  const codec = codecOf(t)
  if (op !== '=' && op !== '<>' && op !== '!=' && !codec.ordered) {
    throw new OperatorError(
      t.kind === 'enum'
        ? `operator ${op} is not supported for enum type ${t.name} without its labels in sort order`
        : `operator ${op} is not supported for type ${typeLabel(t)}`,
    )
  }
  return codec.compare
}

/** Types whose values are equal exactly when they are ===. */
function identityEquality(t: PgType): boolean {
  if (t.array) return false
  return t.kind !== 'numeric' && t.kind !== 'float4' && t.kind !== 'float8' && t.kind !== 'bpchar'
}

export function comparePredicate(op: string, t: PgType): (a: Value, b: Value) => boolean {
  const cmp = comparator(op, t)
  const fast = identityEquality(t)
  switch (op) {
    case '=': return fast ? (a, b) => a === b : (a, b) => cmp(a, b) === 0
    case '<>': case '!=': return fast ? (a, b) => a !== b : (a, b) => cmp(a, b) !== 0
    case '<': return (a, b) => cmp(a, b) < 0
    case '>': return (a, b) => cmp(a, b) > 0
    case '<=': return (a, b) => cmp(a, b) <= 0
    default: return (a, b) => cmp(a, b) >= 0
  }
}

function comparison(op: string, l: PgType, r: PgType): Operator {
  const t = comparisonType(l, r) ?? noOperator(op, l, r)
  const test = comparePredicate(op, t)
  if ((t.kind === 'timestamp' || t.kind === 'timestamptz') && (l.kind === 'date' || r.kind === 'date')) {
    // date vs timestamp(tz): Postgres's cross-type operators (date_cmp_timestamptz is STABLE).
    const cl = l.kind === 'date' ? (v: Value) => dateAsTimestamp(v as number) : (v: Value) => v
    const cr = r.kind === 'date' ? (v: Value) => dateAsTimestamp(v as number) : (v: Value) => v
    return { left: l, right: r, result: BOOL, strict: true, stable: t.kind === 'timestamptz', apply: (a, b) => test(cl(a!), cr(b!)) }
  }
  return { left: t, right: t, result: BOOL, strict: true, apply: (a, b) => test(a!, b!) }
}

// ---- arithmetic

function arithmeticType(l: PgType, r: PgType): PgType | undefined {
  if (!isNumeric(l) || !isNumeric(r)) return undefined
  const floats = (l.kind === 'float4' || l.kind === 'float8') || (r.kind === 'float4' || r.kind === 'float8')
  if (floats) return l.kind === 'float4' && r.kind === 'float4' ? l : scalar('float8')
  if (l.kind === 'numeric' || r.kind === 'numeric') return scalar('numeric')
  return comparisonType(l, r)
}

function arithmetic(op: string, lt: PgType, rt: PgType): Operator {
  let l = lt
  let r = rt
  if (l.kind === 'unknown' && r.kind === 'unknown') throw new OperatorError(`operator is not unique: unknown ${op} unknown`)
  if (l.kind === 'date' || r.kind === 'date') return dateArithmetic(op, l, r)
  if (l.kind === 'unknown') l = r
  if (r.kind === 'unknown') r = l
  const t = arithmeticType(l, r) ?? noOperator(op, lt, rt)
  const apply = arithmeticOf(op, t) ?? noOperator(op, t, t)
  return { left: t, right: t, result: t, strict: true, apply: (a, b) => apply(a!, b!) }
}

function intRange(kind: string): [number, number, string] {
  return kind === 'int2' ? [INT2_MIN, INT2_MAX, 'smallint'] : [INT4_MIN, INT4_MAX, 'integer']
}

function arithmeticOf(op: string, t: PgType): ((a: Value, b: Value) => Value) | undefined {
  switch (t.kind) {
    case 'int2': case 'int4': {
      const [min, max, name] = intRange(t.kind)
      const check = (v: number) => {
        if (v < min || v > max) fail(`${name} out of range`)
        return v
      }
      switch (op) {
        case '+': return (a, b) => check((a as number) + (b as number))
        case '-': return (a, b) => check((a as number) - (b as number))
        case '*': return (a, b) => check((a as number) * (b as number)) // |product| ≤ 2^31 is exact in a double
        case '/': return (a, b) => {
          if (b === 0) fail('division by zero')
          return check(Math.trunc((a as number) / (b as number)) || 0)
        }
        default: return (a, b) => {
          if (b === 0) fail('division by zero')
          return (a as number) % (b as number) || 0
        }
      }
    }
    case 'int8': {
      const check = (v: bigint) => {
        if (v < INT8_MIN || v > INT8_MAX) fail('bigint out of range')
        return v
      }
      switch (op) {
        case '+': return (a, b) => check((a as bigint) + (b as bigint))
        case '-': return (a, b) => check((a as bigint) - (b as bigint))
        case '*': return (a, b) => check((a as bigint) * (b as bigint))
        case '/': return (a, b) => {
          if (b === 0n) fail('division by zero')
          return check((a as bigint) / (b as bigint))
        }
        default: return (a, b) => {
          if (b === 0n) fail('division by zero')
          return (a as bigint) % (b as bigint)
        }
      }
    }
    case 'numeric': {
      const fn = { '+': addNumeric, '-': subNumeric, '*': mulNumeric, '/': divNumeric, '%': modNumeric }[op]!
      return (a, b) => fn(a as Numeric, b as Numeric)
    }
    case 'float4': case 'float8': {
      const single = t.kind === 'float4'
      const round = single ? Math.fround : (x: number) => x
      const overflow = (r: number, a: number, b: number) => {
        if ((r === Infinity || r === -Infinity) && Number.isFinite(a) && Number.isFinite(b)) fail('value out of range: overflow')
        return r
      }
      switch (op) {
        case '+': return (a, b) => overflow(round((a as number) + (b as number)), a as number, b as number)
        case '-': return (a, b) => overflow(round((a as number) - (b as number)), a as number, b as number)
        case '*': return (a, b) => {
          const x = a as number
          const y = b as number
          const r = overflow(round(x * y), x, y)
          if (r === 0 && x !== 0 && y !== 0) fail('value out of range: underflow')
          return r
        }
        case '/': return (a, b) => {
          const x = a as number
          const y = b as number
          if (y === 0 && !Number.isNaN(x)) fail('division by zero')
          const r = round(x / y)
          if ((r === Infinity || r === -Infinity) && Number.isFinite(x)) fail('value out of range: overflow')
          if (r === 0 && x !== 0 && Number.isFinite(y)) fail('value out of range: underflow')
          return r
        }
        default: return undefined
      }
    }
    default:
      return undefined
  }
}

function dateArithmetic(op: string, l: PgType, r: PgType): Operator {
  const intLike = (t: PgType) => t.kind === 'int2' || t.kind === 'int4'
  const date = scalar('date')
  if (l.kind === 'date' && intLike(r) && (op === '+' || op === '-')) {
    const sign = op === '+' ? 1 : -1
    return { left: date, right: INT4, result: date, strict: true, apply: (a, b) => addDays(a as number, sign * (b as number)) }
  }
  if (intLike(l) && r.kind === 'date' && op === '+') {
    return { left: INT4, right: date, result: date, strict: true, apply: (a, b) => addDays(b as number, a as number) }
  }
  if (l.kind === 'date' && r.kind === 'date' && op === '-') {
    return { left: date, right: date, result: INT4, strict: true, apply: (a, b) => subtractDates(a as number, b as number) }
  }
  if (l.kind === 'unknown' || r.kind === 'unknown') throw new OperatorError(`operator is not unique: ${typeLabel(l)} ${op} ${typeLabel(r)}`)
  return noOperator(op, l, r)
}

/** Unary minus and plus on numbers. */
export function resolveUnary(op: string, t: PgType): Operator {
  if (t.kind === 'unknown') throw new OperatorError(`operator is not unique: ${op} unknown`)
  if (!isNumeric(t) || (op !== '-' && op !== '+')) throw new OperatorError(`operator does not exist: ${op} ${typeLabel(t)}`)
  if (op === '+') return { left: t, right: t, result: t, strict: true, apply: (a) => a }
  let neg: (v: Value) => Value
  if (t.kind === 'int8') {
    neg = (v) => {
      if (v === INT8_MIN) fail('bigint out of range')
      return -(v as bigint)
    }
  } else if (t.kind === 'int2' || t.kind === 'int4') {
    const [min, , name] = intRange(t.kind)
    neg = (v) => {
      if (v === min) fail(`${name} out of range`)
      return -(v as number) || 0
    }
  } else if (t.kind === 'numeric') {
    neg = (v) => negateNumeric(v as Numeric)
  } else {
    neg = (v) => -(v as number)
  }
  return { left: t, right: t, result: t, strict: true, apply: (a) => neg(a!) }
}

// ---- || on text and arrays

function concatenation(l: PgType, r: PgType): Operator {
  if (l.array || r.array) return arrayConcatenation(l, r)
  const stringy = (t: PgType) => t.kind === 'unknown' || isString(t)
  if (!stringy(l) && !stringy(r)) noOperator('||', l, r)
  if (l.kind === 'unsupported' || r.kind === 'unsupported') noOperator('||', l, r)
  // text || anynonarray converts the other operand with its ::text cast (true → 'true').
  const lt = l.kind === 'unknown' ? TEXT : l
  const rt = r.kind === 'unknown' ? TEXT : r
  const ls = textOf(lt)
  const rs = textOf(rt)
  // textanycat / anytextcat (a non-text operand) are STABLE; textcat is IMMUTABLE.
  const stable = !isString(lt) || !isString(rt)
  return { left: lt, right: rt, result: TEXT, strict: true, stable, apply: (a, b) => ls(a!) + rs(b!) }
}

function arrayConcatenation(l: PgType, r: PgType): Operator {
  if (l.array && (r.array || r.kind === 'unknown')) {
    if (r.array && !sameType(l, r)) noOperator('||', l, r)
    return { left: l, right: l, result: l, strict: false, apply: (a, b) => arrayCat(a as PgArray | null, b as PgArray | null) }
  }
  if (r.array && l.kind === 'unknown') {
    return { left: r, right: r, result: r, strict: false, apply: (a, b) => arrayCat(a as PgArray | null, b as PgArray | null) }
  }
  // array || element, element || array: the common type of the element and the other operand.
  const element = commonType([elementOf(l.array ? l : r), l.array ? r : l])
  if (!element || element.array) return noOperator('||', l, r)
  const result = arrayOf(element)
  if (l.array) {
    return { left: result, right: element, result, strict: false, apply: (a, b) => arrayAppend(a as PgArray | null, b) }
  }
  return { left: element, right: result, result, strict: false, apply: (a, b) => arrayPrepend(a, b as PgArray | null) }
}

function oneDimensional(a: PgArray): void {
  if (a.dims.length > 1) fail('argument must be empty or one-dimensional array')
}

function arrayAppend(a: PgArray | null, x: Value | null): PgArray {
  if (a === null || a.items.length === 0) return { dims: [1], lbs: [1], items: [x] }
  oneDimensional(a)
  return { dims: [a.items.length + 1], lbs: a.lbs, items: [...a.items, x] }
}

function arrayPrepend(x: Value | null, a: PgArray | null): PgArray {
  if (a === null || a.items.length === 0) return { dims: [1], lbs: [1], items: [x] }
  oneDimensional(a)
  return { dims: [a.items.length + 1], lbs: a.lbs, items: [x, ...a.items] }
}

function arrayCat(a: PgArray | null, b: PgArray | null): PgArray | null {
  if (a === null) return b
  if (b === null) return a
  if (a.items.length === 0) return b
  if (b.items.length === 0) return a
  const items = [...a.items, ...b.items]
  const sameInner = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((d, i) => d === y[i])
  if (a.dims.length === b.dims.length && sameInner(a.dims.slice(1), b.dims.slice(1))) {
    return { dims: [a.dims[0]! + b.dims[0]!, ...a.dims.slice(1)], lbs: a.lbs, items }
  }
  if (a.dims.length === b.dims.length + 1 && sameInner(a.dims.slice(1), b.dims)) {
    return { dims: [a.dims[0]! + 1, ...a.dims.slice(1)], lbs: a.lbs, items }
  }
  if (b.dims.length === a.dims.length + 1 && sameInner(b.dims.slice(1), a.dims)) {
    return { dims: [b.dims[0]! + 1, ...b.dims.slice(1)], lbs: b.lbs, items }
  }
  return fail('cannot concatenate incompatible arrays')
}

// ---- LIKE

function likeOperator(op: string, l: PgType, r: PgType, mapping: CaseMapping): Operator {
  const stringy = (t: PgType) => t.kind === 'unknown' || isString(t)
  if (!stringy(l) || !stringy(r)) noOperator(op, l, r)
  // bpchar ~~ text matches the padded value; everything else is text.
  const left = l.kind === 'bpchar' ? l : TEXT
  const negate = op.startsWith('!')
  const insensitive = op.endsWith('*')
  const lower = lowerFor(mapping)
  // The pattern is usually the same on every row: lower-case it once.
  let lastPattern: string | undefined
  let lastLowered = ''
  const lowerPattern = (p: string) => {
    if (p !== lastPattern) {
      lastLowered = lower(p)
      lastPattern = p
    }
    return lastLowered
  }
  const test = insensitive ? (a: string, b: string) => like(lower(a), lowerPattern(b)) : like
  return {
    left, right: TEXT, result: BOOL, strict: true,
    apply: negate ? (a, b) => !test(a as string, b as string) : (a, b) => test(a as string, b as string),
    ...(!negate && { like: insensitive ? { fold: lower, mapping } : { mapping: 'exact' as const } }),
  }
}

// ---- @> <@ &&

function arrayOperator(op: string, l: PgType, r: PgType): Operator {
  const t = l.kind === 'unknown' ? r : r.kind === 'unknown' ? l : l
  if (!t.array || (l.kind !== 'unknown' && r.kind !== 'unknown' && !sameType(l, r))) noOperator(op, l, r)
  const cmp = comparator('=', elementOf(t))
  const contains = (a: PgArray, b: PgArray) =>
    b.items.every((y) => y !== null && a.items.some((x) => x !== null && cmp(x, y) === 0))
  const apply: (a: PgArray, b: PgArray) => boolean =
    op === '@>' ? contains
      : op === '<@' ? (a, b) => contains(b, a)
        : (a, b) => a.items.some((x) => x !== null && b.items.some((y) => y !== null && cmp(x, y) === 0))
  return { left: t, right: t, result: BOOL, strict: true, apply: (a, b) => apply(a as PgArray, b as PgArray) }
}

