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
export function parseInteger(text: string, typeName: 'smallint' | 'integer' | 'bigint'): bigint {
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
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace('-', '').replace('.', '')
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

/**
 * The shortest decimal that reads back as x, as Postgres's Ryu does it: strictly inside the rounding
 * interval. (JS's Number→string also accepts a decimal exactly on the interval's bound, which rounds back
 * to x by ties-to-even; Postgres prints one more digit then.) Returns `d.ddde±x` (toExponential's form).
 */
function shortest(x: number, single: boolean): string {
  const bounds = roundingBounds(x, single)
  const first = single ? shortestSingleInclusive(x) : x.toExponential()
  for (let digits = significantDigits(first); ; digits++) {
    const candidate = digits === significantDigits(first) ? first : x.toExponential(digits - 1)
    if (strictlyInside(candidate, bounds)) return candidate
    const other = neighbour(candidate, x)
    if (strictlyInside(other, bounds)) return other
    if (digits >= 17) return x.toExponential(16)
  }
}

function shortestSingleInclusive(x: number): string {
  for (let p = 1; p < 9; p++) {
    const candidate = x.toExponential(p - 1)
    if (Math.fround(Number(candidate)) === x) return candidate
  }
  return x.toExponential(8)
}

function significantDigits(exponential: string): number {
  return exponential.split('e')[0]!.replace(/[-.]/g, '').length
}

/** The other decimal with as many digits next to x: one unit in the last place away, on x's other side. */
function neighbour(candidate: string, x: number): string {
  const [mantissa, exp] = candidate.split('e') as [string, string]
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace(/[-.]/g, '')
  const n = BigInt(digits)
  const c = Number(candidate)
  const next = (c < x) !== negative ? n + 1n : n - 1n
  let text = next.toString()
  let e = Number(exp)
  if (text.length > digits.length) e++ // 9.99 → 10.0
  if (text.length < digits.length) {
    e--
    text = text.padEnd(digits.length, '9')
  }
  text = text.slice(0, digits.length)
  return `${negative ? '-' : ''}${text[0]}${text.length > 1 ? '.' + text.slice(1) : ''}e${e >= 0 ? '+' : ''}${e}`
}

/** x's rounding interval, exactly: [numerator, power of two] pairs for the lower and upper bound of |x|. */
function roundingBounds(x: number, single: boolean): [[bigint, number], [bigint, number]] {
  const view = new DataView(new ArrayBuffer(8))
  let mantissa: bigint
  let exponent: number
  let bits: number
  let fraction: number
  let bias: number
  if (single) {
    view.setFloat32(0, Math.abs(x))
    const raw = view.getUint32(0)
    bits = (raw >>> 23) & 0xff
    mantissa = BigInt(raw & 0x7fffff)
    fraction = 23
    bias = 127
  } else {
    view.setFloat64(0, Math.abs(x))
    const raw = view.getBigUint64(0)
    bits = Number((raw >> 52n) & 0x7ffn)
    mantissa = raw & ((1n << 52n) - 1n)
    fraction = 52
    bias = 1023
  }
  const powerOfTwo = mantissa === 0n && bits > 1
  const m = bits === 0 ? mantissa : mantissa | (1n << BigInt(fraction))
  exponent = (bits === 0 ? 1 : bits) - bias - fraction
  const upper: [bigint, number] = [2n * m + 1n, exponent - 1]
  const lower: [bigint, number] = powerOfTwo ? [4n * m - 1n, exponent - 2] : [2n * m - 1n, exponent - 1]
  return [lower, upper]
}

/** Whether the decimal `d.ddde±x` lies strictly between the bounds (compared exactly). */
function strictlyInside(decimal: string, [lower, upper]: [[bigint, number], [bigint, number]]): boolean {
  const [mantissa, exp] = decimal.split('e') as [string, string]
  const digits = mantissa.replace(/[-.]/g, '')
  const k = Number(exp) - (digits.length - 1)
  // decimal = num / den
  const num = BigInt(digits) * (k > 0 ? 10n ** BigInt(k) : 1n)
  const den = k < 0 ? 10n ** BigInt(-k) : 1n
  const compare = ([n, e]: [bigint, number]) => {
    // sign of decimal − n·2^e
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

/** Float arithmetic result check (float8_pl etc.): overflow to infinity and underflow to zero are errors. */
export function checkFloat(r: number, a: number, b: number, zeroOk: boolean, single = false): number {
  const v = single ? Math.fround(r) : r
  if (!Number.isFinite(v) && !Number.isNaN(v) && Number.isFinite(a) && Number.isFinite(b)) fail('value out of range: overflow')
  if (v === 0 && !zeroOk) fail('value out of range: underflow')
  return v
}
