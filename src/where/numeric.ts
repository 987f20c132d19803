// Postgres `numeric`: arbitrary-precision decimals, exact (bigint coefficient and decimal scale), with
// NaN and ±Infinity, and Postgres's rules for the scale of results.
import { fail } from './errors.js'

/** value = n × 10^-s for finite numbers (s is Postgres's display scale); `sp` marks the special values. */
export interface Numeric {
  readonly n: bigint
  readonly s: number
  /** 0 finite, 1 +Infinity, -1 -Infinity, 2 NaN (sorts above everything, equal to itself). */
  readonly sp: 0 | 1 | -1 | 2
}

const NUMERIC_NAN: Numeric = { n: 0n, s: 0, sp: 2 }
const POS_INF: Numeric = { n: 0n, s: 0, sp: 1 }
const NEG_INF: Numeric = { n: 0n, s: 0, sp: -1 }
const MAX_DSCALE = 16383
const MAX_DIGITS_BEFORE_POINT = 131072

const pow10Cache: bigint[] = [1n]
function pow10(k: number): bigint {
  for (let i = pow10Cache.length; i <= k; i++) pow10Cache.push(pow10Cache[i - 1]! * 10n)
  return pow10Cache[k]!
}

export function numeric(n: bigint, s: number): Numeric {
  return { n, s, sp: 0 }
}

const CANONICAL = /^-?\d{1,15}(?:\.\d{1,15})?$/
const DECIMAL = /^([+-])?(?:(\d+(?:_\d+)*)(?:\.(\d+(?:_\d+)*)?)?|\.(\d+(?:_\d+)*))(?:[eE]([+-]?\d+))?$/
const NON_DECIMAL = /^([+-])?0(?:[xX]([0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)|[oO]([0-7]+(?:_[0-7]+)*)|[bB]([01]+(?:_[01]+)*))$/

/** numeric_in: decimal, exponent, NaN/Infinity, 0x/0o/0b integers and `_` separators, surrounding blanks. */
export function parseNumeric(text: string): Numeric {
  const point = text.indexOf('.')
  if (CANONICAL.test(text)) {
    // the form Postgres sends: no exponent, no blanks
    return point < 0 ? numeric(BigInt(text), 0) : numeric(BigInt(text.slice(0, point) + text.slice(point + 1)), text.length - point - 1)
  }
  const t = text.trim()
  const m = DECIMAL.exec(t)
  if (m) {
    const int = (m[2] ?? '').replaceAll('_', '')
    const frac = (m[3] ?? m[4] ?? '').replaceAll('_', '')
    const exp = m[5] === undefined ? 0 : Number(m[5])
    if (!Number.isSafeInteger(exp) || Math.abs(exp) > 1_000_000) fail(`value overflows numeric format`)
    let n = BigInt(int + frac || '0')
    let s = frac.length - exp
    if (s < 0) {
      n *= pow10(-s)
      s = 0
    }
    if (s > MAX_DSCALE || int.length + exp > MAX_DIGITS_BEFORE_POINT) fail('value overflows numeric format')
    return numeric(m[1] === '-' ? -n : n, s)
  }
  const special = t.toLowerCase()
  if (special === 'nan') return NUMERIC_NAN
  if (special === 'infinity' || special === '+infinity' || special === 'inf' || special === '+inf') return POS_INF
  if (special === '-infinity' || special === '-inf') return NEG_INF
  const nd = NON_DECIMAL.exec(t)
  if (nd) {
    const digits = (nd[2] ?? nd[3] ?? nd[4])!.replaceAll('_', '')
    const prefix = nd[2] !== undefined ? '0x' : nd[3] !== undefined ? '0o' : '0b'
    const n = BigInt(prefix + digits)
    return numeric(nd[1] === '-' ? -n : n, 0)
  }
  return fail(`invalid input syntax for type numeric: "${text}"`)
}

export function formatNumeric(v: Numeric): string {
  if (v.sp !== 0) return v.sp === 2 ? 'NaN' : v.sp === 1 ? 'Infinity' : '-Infinity'
  const neg = v.n < 0n
  let digits = (neg ? -v.n : v.n).toString()
  if (v.s > 0) {
    if (digits.length <= v.s) digits = '0'.repeat(v.s - digits.length + 1) + digits
    digits = `${digits.slice(0, digits.length - v.s)}.${digits.slice(digits.length - v.s)}`
  }
  return neg ? `-${digits}` : digits
}

/** A string equal for exactly the values Postgres considers equal ('1.0' and '1', '-0' and '0'). */
export function numericKey(v: Numeric): string {
  if (v.sp !== 0) return formatNumeric(v)
  let { n, s } = v
  while (s > 0 && n % 10n === 0n) {
    n /= 10n
    s--
  }
  return s === 0 ? n.toString() : `${n}e-${s}`
}

export function compareNumeric(a: Numeric, b: Numeric): number {
  if (a.sp !== 0 || b.sp !== 0) {
    // -Infinity < finite < +Infinity < NaN
    const ra = a.sp === 0 ? 0 : a.sp === 2 ? 2 : a.sp
    const rb = b.sp === 0 ? 0 : b.sp === 2 ? 2 : b.sp
    return ra === rb ? 0 : ra < rb ? -1 : 1
  }
  let x = a.n
  let y = b.n
  if (a.s < b.s) x *= pow10(b.s - a.s)
  else if (b.s < a.s) y *= pow10(a.s - b.s)
  return x < y ? -1 : x > y ? 1 : 0
}

function special(sp: 1 | -1 | 2): Numeric {
  return sp === 2 ? NUMERIC_NAN : sp === 1 ? POS_INF : NEG_INF
}

function sign(v: Numeric): number {
  return v.sp === 0 ? (v.n > 0n ? 1 : v.n < 0n ? -1 : 0) : v.sp
}

export function negateNumeric(v: Numeric): Numeric {
  if (v.sp !== 0) return v.sp === 2 ? v : special(v.sp === 1 ? -1 : 1)
  return numeric(-v.n, v.s)
}

export function addNumeric(a: Numeric, b: Numeric): Numeric {
  if (a.sp !== 0 || b.sp !== 0) {
    if (a.sp === 2 || b.sp === 2) return NUMERIC_NAN
    if (a.sp !== 0 && b.sp !== 0) return a.sp === b.sp ? a : NUMERIC_NAN
    return a.sp !== 0 ? a : b
  }
  const s = Math.max(a.s, b.s)
  return numeric(a.n * pow10(s - a.s) + b.n * pow10(s - b.s), s)
}

export function subNumeric(a: Numeric, b: Numeric): Numeric {
  return addNumeric(a, negateNumeric(b))
}

export function mulNumeric(a: Numeric, b: Numeric): Numeric {
  if (a.sp !== 0 || b.sp !== 0) {
    if (a.sp === 2 || b.sp === 2) return NUMERIC_NAN
    const sg = sign(a) * sign(b)
    return sg === 0 ? NUMERIC_NAN : special(sg > 0 ? 1 : -1)
  }
  const s = a.s + b.s
  // Postgres caps the result's display scale, rounding the product.
  return s > MAX_DSCALE ? roundTo(a.n * b.n, s, MAX_DSCALE) : numeric(a.n * b.n, s)
}

/** Rounds n × 10^-s to `scale` decimals, half away from zero. */
function roundTo(n: bigint, s: number, scale: number): Numeric {
  if (s <= scale) return numeric(n * pow10(scale - s), scale)
  return numeric(divRound(n, pow10(s - scale)), scale)
}

/** n / d rounded half away from zero. */
function divRound(n: bigint, d: bigint): bigint {
  const q = n / d
  const r = n % d
  const twice = (r < 0n ? -r : r) * 2n
  const ad = d < 0n ? -d : d
  if (twice >= ad) return (n < 0n) !== (d < 0n) ? q - 1n : q + 1n
  return q
}

/** Postgres's weight (base-10000 digit position) and first base-10000 digit of a finite value. */
function weightAndFirstDigit(v: Numeric): [number, number] {
  if (v.n === 0n) return [0, 0]
  const digits = (v.n < 0n ? -v.n : v.n).toString()
  const e10 = digits.length - 1 - v.s
  const w = Math.floor(e10 / 4)
  const k = e10 - 4 * w + 1
  const first = Number(digits.length >= k ? digits.slice(0, k) : digits + '0'.repeat(k - digits.length))
  return [w, first]
}

/** select_div_scale: at least 16 significant digits, and no fewer decimals than either input. */
function divScale(a: Numeric, b: Numeric): number {
  const [w1, f1] = weightAndFirstDigit(a)
  const [w2, f2] = weightAndFirstDigit(b)
  let qweight = w1 - w2
  if (f1 <= f2) qweight--
  return Math.min(Math.max(16 - qweight * 4, a.s, b.s, 0), 1000)
}

export function divNumeric(a: Numeric, b: Numeric): Numeric {
  if (a.sp !== 0 || b.sp !== 0) {
    if (a.sp === 2 || b.sp === 2) return NUMERIC_NAN
    if (a.sp !== 0) {
      if (b.sp !== 0) return NUMERIC_NAN
      if (b.n === 0n) fail('division by zero')
      return special((a.sp * sign(b)) > 0 ? 1 : -1)
    }
    return numeric(0n, 0) // finite / ±Infinity
  }
  if (b.n === 0n) fail('division by zero')
  const scale = divScale(a, b)
  // a/b = (a.n / b.n) × 10^(b.s - a.s); scaled to `scale` decimals.
  const shift = scale - a.s + b.s
  const num = shift >= 0 ? a.n * pow10(shift) : a.n
  const den = shift >= 0 ? b.n : b.n * pow10(-shift)
  return numeric(divRound(num, den), scale)
}

/** numeric % numeric: remainder of the truncated quotient, with the larger of the two scales. */
export function modNumeric(a: Numeric, b: Numeric): Numeric {
  if (a.sp !== 0 || b.sp !== 0) {
    if (a.sp === 2 || b.sp === 2) return NUMERIC_NAN
    if (a.sp !== 0) {
      if (b.sp === 0 && b.n === 0n) fail('division by zero')
      return NUMERIC_NAN
    }
    return a // finite % ±Infinity
  }
  if (b.n === 0n) fail('division by zero')
  const s = Math.max(a.s, b.s)
  const x = a.n * pow10(s - a.s)
  const y = b.n * pow10(s - b.s)
  return numeric(x % y, s)
}

/** numeric → integer types: rounds half away from zero; the caller checks the range. */
export function numericToBigInt(v: Numeric, typeName: string): bigint {
  if (v.sp !== 0) fail(`cannot convert ${v.sp === 2 ? 'NaN' : 'infinity'} to ${typeName}`)
  return v.s === 0 ? v.n : divRound(v.n, pow10(v.s))
}

export function numericToFloat(v: Numeric): number {
  if (v.sp !== 0) return v.sp === 2 ? NaN : v.sp === 1 ? Infinity : -Infinity
  return Number(formatNumeric(v))
}

/** float8 → numeric keeps 15 significant digits, like Postgres (`%.15g`). */
export function floatToNumeric(x: number, significant: number): Numeric {
  if (Number.isNaN(x)) return NUMERIC_NAN
  if (!Number.isFinite(x)) return x > 0 ? POS_INF : NEG_INF
  if (x === 0) return numeric(0n, 0)
  const [mantissa, exp] = x.toExponential(significant - 1).split('e') as [string, string]
  const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa
  return parseNumeric(`${trimmed}e${exp}`)
}
