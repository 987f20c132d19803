// Integer and floating-point types: Postgres text input and output, range checks.
import { fail } from './errors.js'

export const INT2_MIN = -32768
export const INT2_MAX = 32767
export const INT4_MIN = -2147483648
export const INT4_MAX = 2147483647
export const INT8_MIN = -9223372036854775808n
export const INT8_MAX = 9223372036854775807n

const INTEGER = /^\s*([+-])?(?:0[xX]([0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)|0[oO]([0-7]+(?:_[0-7]+)*)|0[bB]([01]+(?:_[01]+)*)|(\d+(?:_\d+)*))\s*$/

/** int2in / int4in / int8in: decimal, 0x/0o/0b, `_` separators, surrounding blanks. */
function parseInteger(text: string, typeName: 'smallint' | 'integer' | 'bigint'): bigint {
  const m = INTEGER.exec(text)
  if (!m) fail(`invalid input syntax for type ${typeName}: "${text}"`)
  const prefix = m[2] !== undefined ? '0x' : m[3] !== undefined ? '0o' : m[4] !== undefined ? '0b' : ''
  const magnitude = BigInt(prefix + (m[2] ?? m[3] ?? m[4] ?? m[5])!.replaceAll('_', ''))
  return m[1] === '-' ? -magnitude : magnitude
}

export function parseInt2(text: string): number {
  if (/^-?\d{1,4}$/.test(text)) return Number(text) // the form Postgres sends
  return checkInt2(parseInteger(text, 'smallint'), text)
}

export function parseInt4(text: string): number {
  if (/^-?\d{1,9}$/.test(text)) return Number(text)
  return checkInt4(parseInteger(text, 'integer'), text)
}

export function parseInt8(text: string): bigint {
  if (/^-?\d{1,18}$/.test(text)) return BigInt(text)
  const v = parseInteger(text, 'bigint')
  if (v < INT8_MIN || v > INT8_MAX) fail(`value "${text}" is out of range for type bigint`)
  return v
}

function checkInt2(v: bigint, text: string): number {
  if (v < BigInt(INT2_MIN) || v > BigInt(INT2_MAX)) fail(`value "${text}" is out of range for type smallint`)
  return Number(v)
}

function checkInt4(v: bigint, text: string): number {
  if (v < BigInt(INT4_MIN) || v > BigInt(INT4_MAX)) fail(`value "${text}" is out of range for type integer`)
  return Number(v)
}

const FLOAT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/
const FLOAT_SPECIAL = /^\s*([+-]?)(nan|inf|infinity)\s*$/i

/** float8in / float4in: decimal with exponent, NaN, [+-]Infinity/inf; out-of-range values are errors. */
export function parseFloat8(text: string, single = false): number {
  const typeName = single ? 'real' : 'double precision'
  if (FLOAT.test(text)) {
    const v = Number(text)
    const r = single ? Math.fround(v) : v
    if (!Number.isFinite(r)) fail(`"${text.trim()}" is out of range for type ${typeName}`)
    if (r === 0 && /[1-9]/.test(text.replace(/[eE].*$/, ''))) fail(`"${text.trim()}" is out of range for type ${typeName}`)
    return r
  }
  const s = FLOAT_SPECIAL.exec(text)
  if (!s) fail(`invalid input syntax for type ${typeName}: "${text}"`)
  if (s[2]!.toLowerCase() === 'nan') return NaN
  return s[1] === '-' ? -Infinity : Infinity
}

/** float8out / float4out with extra_float_digits > 0: the shortest exact digits, `%g`-style layout. */
export function formatFloat(x: number, single = false): string {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Infinity) return 'Infinity'
  if (x === -Infinity) return '-Infinity'
  if (x === 0) return Object.is(x, -0) ? '-0' : '0'
  const [mantissa, expText] = shortest(x, single).split('e') as [string, string]
  const exp = Number(expText)
  const negative = x < 0
  const digits = mantissa.replace('.', '')
  let out: string
  if (exp < -4 || exp >= (single ? 6 : 15)) {
    const e = Math.abs(exp)
    out = `${digits[0]}${digits.length > 1 ? '.' + digits.slice(1) : ''}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' + e : e}`
  } else if (exp < 0) {
    out = `0.${'0'.repeat(-exp - 1)}${digits}`
  } else if (digits.length <= exp + 1) {
    out = digits + '0'.repeat(exp + 1 - digits.length)
  } else {
    out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`
  }
  return negative ? `-${out}` : out
}

/** A decimal digits × 10^(pointExp - digits.length + 1): `pointExp` is the power of ten of the first digit. */
interface Decimal {
  readonly digits: string
  readonly pointExp: number
}

/**
 * The shortest decimal that reads back as x, as Postgres's Ryu does it: strictly inside the rounding
 * interval (JS's shortest form may sit exactly on its bound; Postgres prints one more digit then), and the
 * nearest such decimal, ties to even. Returns `d.ddde±x` (toExponential's form) for |x|.
 */
function shortest(x: number, single: boolean): string {
  const bounds = roundingBounds(x, single)
  const exact = exactDecimal(Math.abs(x))
  // No decimal shorter than JS's shortest round-tripping one lies inside the (smaller) open interval.
  const first = single ? shortestSingleInclusive(x) : x.toExponential()
  let result = roundDigits(exact, 17)
  for (let p = first.split('e')[0]!.replace(/[-.]/g, '').length; p < 17; p++) {
    const nearest = roundDigits(exact, p)
    if (strictlyInside(nearest, bounds)) {
      result = nearest
      break
    }
    const other = neighbour(nearest, exact)
    if (strictlyInside(other, bounds)) {
      result = other
      break
    }
  }
  const digits = result.digits.replace(/(.)0+$/, '$1')
  return `${digits[0]}${digits.length > 1 ? '.' + digits.slice(1) : ''}e${result.pointExp >= 0 ? '+' : ''}${result.pointExp}`
}

function shortestSingleInclusive(x: number): string {
  for (let p = 1; p < 9; p++) {
    const candidate = x.toExponential(p - 1)
    if (Math.fround(Number(candidate)) === x) return candidate
  }
  return x.toExponential(8)
}

/** A finite, non-zero double exactly: m·2^e = m·5^-e·10^e. */
function exactDecimal(x: number): Decimal {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const raw = view.getBigUint64(0)
  const biased = Number((raw >> 52n) & 0x7ffn)
  const fraction = raw & ((1n << 52n) - 1n)
  const m = biased === 0 ? fraction : fraction | (1n << 52n)
  const e = (biased === 0 ? 1 : biased) - 1075
  const digits = (e >= 0 ? m << BigInt(e) : m * 5n ** BigInt(-e)).toString()
  return { digits, pointExp: digits.length - 1 + Math.min(e, 0) }
}

/** The exact value rounded to p significant digits, half to even. */
function roundDigits(exact: Decimal, p: number): Decimal {
  const kept = exact.digits.slice(0, p).padEnd(p, '0')
  const rest = exact.digits.slice(p)
  if (rest === '' || rest[0]! < '5') return { digits: kept, pointExp: exact.pointExp }
  const tie = rest[0] === '5' && !/[1-9]/.test(rest.slice(1))
  if (tie && Number(kept[kept.length - 1]) % 2 === 0) return { digits: kept, pointExp: exact.pointExp }
  return step({ digits: kept, pointExp: exact.pointExp }, 1n)
}

/** The p-digit decimal one unit in the last place above (+1) or below (-1). */
function step(d: Decimal, by: 1n | -1n): Decimal {
  const p = d.digits.length
  const next = (BigInt(d.digits) + by).toString()
  if (next.length > p) return { digits: next.slice(0, p), pointExp: d.pointExp + 1 } // 999 → 1000
  if (next.length < p || next === '0') return { digits: '9'.repeat(p), pointExp: d.pointExp - 1 } // 100 → 99.9
  return { digits: next, pointExp: d.pointExp }
}

/** The decimal with as many digits on the other side of the exact value. */
function neighbour(candidate: Decimal, exact: Decimal): Decimal {
  return step(candidate, compareDecimals(candidate, exact) < 0 ? 1n : -1n)
}

function compareDecimals(a: Decimal, b: Decimal): number {
  if (a.pointExp !== b.pointExp) return a.pointExp < b.pointExp ? -1 : 1
  const width = Math.max(a.digits.length, b.digits.length)
  const x = a.digits.padEnd(width, '0')
  const y = b.digits.padEnd(width, '0')
  return x < y ? -1 : x > y ? 1 : 0
}

/** x's rounding interval, exactly: [numerator, power of two] pairs for the lower and upper bound of |x|. */
function roundingBounds(x: number, single: boolean): [[bigint, number], [bigint, number]] {
  const view = new DataView(new ArrayBuffer(8))
  let fraction: bigint
  let biased: number
  let width: number
  let bias: number
  if (single) {
    view.setFloat32(0, Math.abs(x))
    const raw = view.getUint32(0)
    biased = (raw >>> 23) & 0xff
    fraction = BigInt(raw & 0x7fffff)
    width = 23
    bias = 127
  } else {
    view.setFloat64(0, Math.abs(x))
    const raw = view.getBigUint64(0)
    biased = Number((raw >> 52n) & 0x7ffn)
    fraction = raw & ((1n << 52n) - 1n)
    width = 52
    bias = 1023
  }
  const m = biased === 0 ? fraction : fraction | (1n << BigInt(width))
  const e = (biased === 0 ? 1 : biased) - bias - width
  const upper: [bigint, number] = [2n * m + 1n, e - 1]
  // At a power of two the gap below is half the gap above.
  const lower: [bigint, number] = fraction === 0n && biased > 1 ? [4n * m - 1n, e - 2] : [2n * m - 1n, e - 1]
  return [lower, upper]
}

/** Whether the decimal lies strictly between the bounds (compared exactly). */
function strictlyInside(d: Decimal, [lower, upper]: [[bigint, number], [bigint, number]]): boolean {
  const k = d.pointExp - (d.digits.length - 1)
  const num = BigInt(d.digits) * (k > 0 ? 10n ** BigInt(k) : 1n)
  const den = k < 0 ? 10n ** BigInt(-k) : 1n
  const compare = ([n, e]: [bigint, number]) => {
    // the sign of d − n·2^e
    const left = e < 0 ? num << BigInt(-e) : num
    const right = e < 0 ? n * den : (n << BigInt(e)) * den
    return left < right ? -1 : left > right ? 1 : 0
  }
  return compare(lower) > 0 && compare(upper) < 0
}

/** Postgres float comparison: NaN equals NaN and sorts above everything, -0 equals 0. */
export function compareFloat(a: number, b: number): number {
  if (a < b) return -1
  if (a > b) return 1
  if (a === b) return 0
  const an = Number.isNaN(a)
  const bn = Number.isNaN(b)
  return an && bn ? 0 : an ? 1 : -1
}
