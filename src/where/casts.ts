// Conversions between types: explicit casts (`x::t`, `CAST(x AS t)`) and the implicit conversions
// operator resolution inserts (int4 → numeric, varchar → text, date → timestamptz, …).
import { fail } from './errors.js'
import { codecOf, rtrimSpaces, type PgArray, type Value } from './codec.js'
import { dateToTimestamp, timestampToDate, timestampToTime, type PgTimestamp } from './datetime.js'
import { floatToNumeric, numeric, numericToBigInt, numericToFloat, type Numeric } from './numeric.js'
import { INT2_MAX, INT2_MIN, INT4_MAX, INT4_MIN, INT8_MAX, INT8_MIN, formatFloat } from './numbers.js'
import { elementOf, implicitlyConvertible, isInteger, isNumeric, isString, sameType, type PgType } from './types.js'

/** Null only where Postgres's cast gives NULL for a value (an infinite timestamp to time). */
export type Convert = (v: Value) => Value | null

const identity: Convert = (v) => v

function integerRange(kind: 'int2' | 'int4' | 'int8'): Convert {
  if (kind === 'int8') {
    return (v) => {
      const b = typeof v === 'bigint' ? v : BigInt(v as number)
      if (b < INT8_MIN || b > INT8_MAX) fail('bigint out of range')
      return b
    }
  }
  const [min, max, name] = kind === 'int2' ? [INT2_MIN, INT2_MAX, 'smallint'] : [INT4_MIN, INT4_MAX, 'integer']
  return (v) => {
    const n = typeof v === 'bigint' ? (v < BigInt(min) || v > BigInt(max) ? NaN : Number(v)) : (v as number)
    if (!(n >= min && n <= max)) fail(`${name} out of range`)
    return n
  }
}

/** rint(): round half to even, as float → integer casts do. */
function rint(x: number): number {
  const r = Math.round(x)
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r
}

function toFloat4(x: number): number {
  const r = Math.fround(x)
  if (!Number.isFinite(r) && Number.isFinite(x)) fail('value out of range: overflow')
  if (r === 0 && x !== 0) fail('value out of range: underflow')
  return r
}

function numberCast(from: PgType, to: PgType): Convert | undefined {
  const f = from.kind
  const t = to.kind
  if (isInteger(from)) {
    if (t === 'int2' || t === 'int4' || t === 'int8') return integerRange(t)
    if (t === 'numeric') return (v) => numeric(BigInt(v as number | bigint), 0)
    if (t === 'float8') return (v) => Number(v)
    if (t === 'float4') return (v) => Math.fround(Number(v))
  }
  if (f === 'numeric') {
    if (t === 'int2' || t === 'int4' || t === 'int8') {
      const range = integerRange(t)
      const name = t === 'int2' ? 'smallint' : t === 'int4' ? 'integer' : 'bigint'
      return (v) => range(numericToBigInt(v as Numeric, name))
    }
    if (t === 'float8') return (v) => numericToFloat(v as Numeric)
    if (t === 'float4') return (v) => toFloat4(numericToFloat(v as Numeric))
  }
  if (f === 'float4' || f === 'float8') {
    if (t === 'int2' || t === 'int4' || t === 'int8') {
      const range = integerRange(t)
      const name = t === 'int2' ? 'smallint' : t === 'int4' ? 'integer' : 'bigint'
      return (v) => {
        const r = rint(v as number)
        if (!Number.isFinite(r)) fail(`${name} out of range`)
        if (t === 'int8') {
          if (r < -9223372036854775808 || r >= 9223372036854775808) fail('bigint out of range')
          return BigInt(r)
        }
        return range(r)
      }
    }
    if (t === 'numeric') return (v) => floatToNumeric(v as number, f === 'float4' ? 6 : 15)
    if (t === 'float8') return identity
    if (t === 'float4') return (v) => toFloat4(v as number)
  }
  return undefined
}

function datetimeCast(from: PgType, to: PgType): Convert | undefined {
  const f = from.kind
  const t = to.kind
  if (f === 'date' && (t === 'timestamp' || t === 'timestamptz')) return (v) => dateToTimestamp(v as number)
  if ((f === 'timestamp' || f === 'timestamptz') && (t === 'timestamp' || t === 'timestamptz')) return identity
  if ((f === 'timestamp' || f === 'timestamptz') && t === 'date') return (v) => timestampToDate(v as PgTimestamp)
  if ((f === 'timestamp' || f === 'timestamptz') && t === 'time') return (v) => (typeof v === 'number' ? null : timestampToTime(v as bigint))
  return undefined
}

/** What `x::text` gives: the output function, except bool → 'true'/'false' and bpchar without padding. */
export function textOf(from: PgType): (v: Value) => string {
  if (!from.array && from.kind === 'bool') return (v) => (v ? 'true' : 'false')
  if (!from.array && from.kind === 'bpchar') return (v) => rtrimSpaces(v as string)
  if (!from.array && (from.kind === 'float4' || from.kind === 'float8')) {
    const single = from.kind === 'float4'
    return (v) => formatFloat(v as number, single)
  }
  const codec = codecOf(from)
  return (v) => codec.output(v)
}

/**
 * The conversion for `CAST(x AS to)`, or undefined when Postgres has no such cast. Any type converts to
 * and from the string types through its text form (Postgres's I/O conversion casts).
 */
export function explicitCast(from: PgType, to: PgType): Convert | undefined {
  if (sameType(from, to)) return identity
  if (isString(to) && to.kind !== 'bpchar') {
    if (from.kind === 'unsupported' && !from.array) return identity
    return textOf(from)
  }
  if (isString(to)) return from.kind === 'bpchar' || isString(from) ? identity : textOf(from)
  if (to.kind === 'unsupported') return undefined
  if (isString(from)) {
    const codec = codecOf(to)
    return (v) => codec.parse(v as string)
  }
  if (from.array || to.array) {
    if (!from.array || !to.array) return undefined
    const element = explicitCast(elementOf(from), elementOf(to))
    if (!element) return undefined
    return (v) => {
      const a = v as PgArray
      return { dims: a.dims, lbs: a.lbs, items: a.items.map((x) => (x === null ? null : element(x))) }
    }
  }
  if (isNumeric(from) && isNumeric(to)) return numberCast(from, to)
  if (from.kind === 'int4' && to.kind === 'bool') return (v) => v !== 0
  if (from.kind === 'bool' && to.kind === 'int4') return (v) => (v ? 1 : 0)
  return datetimeCast(from, to)
}

/** The implicit conversion Postgres applies to an operator or function argument. */
export function implicitCast(from: PgType, to: PgType): Convert | undefined {
  if (!implicitlyConvertible(from, to)) return undefined
  return explicitCast(from, to)
}

/** Kinds whose text input and output functions Postgres marks STABLE (they depend on DateStyle, TimeZone, the enum's catalog). */
const STABLE_INPUT: Partial<Record<string, true>> = { date: true, time: true, timestamp: true, timestamptz: true, enum: true }
const STABLE_OUTPUT: Partial<Record<string, true>> = { date: true, timestamp: true, timestamptz: true, enum: true }

/** Whether Postgres's cast from → to is STABLE rather than IMMUTABLE (then the planner does not fold it). */
export function isStableCast(from: PgType, to: PgType): boolean {
  if (sameType(from, to)) return false
  if (isString(to)) return !isString(from) && (from.array || STABLE_OUTPUT[from.kind] === true)
  if (isString(from)) return to.array || STABLE_INPUT[to.kind] === true
  if (from.array && to.array) return isStableCast(elementOf(from), elementOf(to))
  if (to.kind === 'timestamptz') return from.kind === 'date' || from.kind === 'timestamp'
  return from.kind === 'timestamptz' && (to.kind === 'date' || to.kind === 'time' || to.kind === 'timestamp')
}
