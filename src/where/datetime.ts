// date, time, timestamp and timestamptz: Postgres text input (ISO forms) and output (DateStyle ISO),
// with microsecond precision and ±infinity. timestamptz values are UTC; the session time zone, for
// input without an offset and for output, is UTC (the engine's replication and snapshot sessions use it).
import { fail } from './errors.js'

/** Days since 2000-01-01, or ±Infinity. */
export type PgDate = number
/** Microseconds since midnight. */
export type PgTime = number
/** Microseconds since 2000-01-01 00:00 (UTC for timestamptz), or ±Infinity (numbers). */
export type PgTimestamp = bigint | number

const POSTGRES_EPOCH_JDATE = 2451545
const USECS_PER_DAY_N = 86_400_000_000n
const MIN_TIMESTAMP = -211813488000000000n
const END_TIMESTAMP = 9223371331200000000n
const DATE_MIN = -POSTGRES_EPOCH_JDATE // julian day 0
const DATE_END = 2147483494 - POSTGRES_EPOCH_JDATE

function date2j(year: number, month: number, day: number): number {
  let y = year
  let m = month
  if (m > 2) {
    m += 1
    y += 4800
  } else {
    m += 13
    y += 4799
  }
  const century = Math.floor(y / 100)
  let julian = y * 365 - 32167
  julian += Math.floor(y / 4) - century + Math.floor(century / 4)
  julian += Math.floor((7834 * m) / 256) + day
  return julian
}

function j2date(jd: number): [number, number, number] {
  let julian = jd + 32044
  let quad = Math.floor(julian / 146097)
  const extra = (julian - quad * 146097) * 4 + 3
  julian += 60 + quad * 3 + Math.floor(extra / 146097)
  quad = Math.floor(julian / 1461)
  julian -= quad * 1461
  let y = Math.floor((julian * 4) / 1461)
  julian = (y !== 0 ? (julian + 305) % 365 : (julian + 306) % 366) + 123
  y += quad * 4
  const q = Math.floor((julian * 2141) / 65536)
  return [y - 4800, ((q + 10) % 12) + 1, julian - Math.floor((7834 * q) / 256)]
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

const DATE_PART = String.raw`(\d{4,})-(\d{1,2})-(\d{1,2})`
const TIME_PART = String.raw`(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d*))?)?`
const ZONE_PART = String.raw`(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?)`
const DATE_RE = new RegExp(String.raw`^\s*${DATE_PART}(?:\s+(BC|AD))?\s*$`, 'i')
const TIME_RE = new RegExp(String.raw`^\s*${TIME_PART}\s*$`)
const TIMESTAMP_RE = new RegExp(
  String.raw`^\s*${DATE_PART}(?:(?:T|\s+)${TIME_PART})?\s*${ZONE_PART}?(?:\s+(BC|AD))?\s*$`,
  'i',
)

/** 'now', 'today', … depend on the clock: refused, a where clause must be deterministic. */
function specialWord(text: string): 'infinity' | '-infinity' | 'epoch' | undefined {
  const word = text.trim().toLowerCase()
  if (word === 'infinity' || word === '+infinity') return 'infinity'
  if (word === '-infinity') return '-infinity'
  if (word === 'epoch') return 'epoch'
  if (word === 'now' || word === 'today' || word === 'tomorrow' || word === 'yesterday') {
    fail(`'${word}' is not allowed: not deterministic`)
  }
  return undefined
}

function outOfRange(text: string): never {
  fail(`date/time field value out of range: "${text}"`)
}

/** Julian day number of an ISO date; `bc` flips the year as Postgres does (1 BC is year 0). */
function julianOf(text: string, yearText: string, monthText: string, dayText: string, era: string | undefined): number {
  let year = Number(yearText)
  const month = Number(monthText)
  const day = Number(dayText)
  if (year === 0) outOfRange(text)
  if (era !== undefined && era.toUpperCase() === 'BC') year = 1 - year
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) outOfRange(text)
  return date2j(year, month, day)
}

function fractionToMicros(fraction: string | undefined): number {
  if (!fraction) return 0
  if (fraction.length <= 6) return Number(fraction.padEnd(6, '0'))
  const us = Number(`0.${fraction}`) * 1e6 // rint(), as Postgres rounds extra digits
  const floor = Math.floor(us)
  const diff = us - floor
  return diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor
}

function timeOfDay(text: string, h: string | undefined, m: string | undefined, s: string | undefined, f: string | undefined): number {
  if (h === undefined) return 0
  const hour = Number(h)
  const minute = Number(m)
  const second = s === undefined ? 0 : Number(s)
  if (hour > 24 || minute > 59 || second > 60) outOfRange(text)
  const us = ((hour * 60 + minute) * 60 + second) * 1e6 + fractionToMicros(f)
  if (us > 86_400_000_000) outOfRange(text)
  return us
}

export function parseDate(text: string): PgDate {
  const m = DATE_RE.exec(text)
  if (!m) {
    const word = specialWord(text)
    if (word === undefined) fail(`invalid input syntax for type date: "${text}"`)
    return word === 'epoch' ? -10957 : word === 'infinity' ? Infinity : -Infinity
  }
  const jd = julianOf(text, m[1]!, m[2]!, m[3]!, m[4])
  const d = jd - POSTGRES_EPOCH_JDATE
  if (d < DATE_MIN || d >= DATE_END) fail(`date out of range: "${text}"`)
  return d
}

export function parseTime(text: string): PgTime {
  const m = TIME_RE.exec(text)
  if (!m) {
    if (text.trim().toLowerCase() === 'allballs') return 0
    return fail(`invalid input syntax for type time: "${text}"`)
  }
  return timeOfDay(text, m[1], m[2], m[3], m[4])
}

/** What Postgres sends (DateStyle ISO, TimeZone UTC) for years 1000..9999: parsed without the general rules. */
const CANONICAL_TIMESTAMP = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:\+00)?$/

function canonicalTimestamp(text: string): bigint | undefined {
  const m = CANONICAL_TIMESTAMP.exec(text)
  if (!m) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = Number(m[4])
  const minute = Number(m[5])
  const second = Number(m[6])
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return undefined
  }
  const seconds = (date2j(year, month, day) - POSTGRES_EPOCH_JDATE) * 86400 + hour * 3600 + minute * 60 + second
  const micros = m[7] === undefined ? 0 : Number(m[7].padEnd(6, '0'))
  return BigInt(seconds) * 1_000_000n + BigInt(micros)
}

/** timestamp (the zone, if any, is ignored, as Postgres does) or timestamptz (converted to UTC). */
export function parseTimestamp(text: string, withZone: boolean): PgTimestamp {
  const canonical = canonicalTimestamp(text)
  if (canonical !== undefined) return canonical
  const m = TIMESTAMP_RE.exec(text)
  const typeName = withZone ? 'timestamp with time zone' : 'timestamp without time zone'
  if (!m) {
    const word = specialWord(text)
    if (word === undefined) fail(`invalid input syntax for type ${typeName}: "${text}"`)
    return word === 'epoch' ? -946684800000000n : word === 'infinity' ? Infinity : -Infinity
  }
  const jd = julianOf(text, m[1]!, m[2]!, m[3]!, m[9])
  let us = BigInt(jd - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY_N + BigInt(timeOfDay(text, m[4], m[5], m[6], m[7]))
  if (withZone && m[8] !== undefined) us -= BigInt(zoneOffsetSeconds(text, m[8])) * 1_000_000n
  if (us < MIN_TIMESTAMP || us >= END_TIMESTAMP) fail(`timestamp out of range: "${text}"`)
  return us
}

function zoneOffsetSeconds(text: string, zone: string): number {
  const upper = zone.toUpperCase()
  if (upper === 'Z' || upper === 'UTC' || upper === 'GMT') return 0
  const digits = zone.slice(1).replaceAll(':', '')
  const hours = digits.length <= 2 ? Number(digits) : Number(digits.slice(0, digits.length - (digits.length > 4 ? 4 : 2)))
  const rest = digits.length <= 2 ? '' : digits.slice(digits.length - (digits.length > 4 ? 4 : 2))
  const minutes = rest.length >= 2 ? Number(rest.slice(0, 2)) : 0
  const seconds = rest.length === 4 ? Number(rest.slice(2)) : 0
  if (hours > 15 || minutes > 59 || seconds > 59) fail(`time zone displacement out of range: "${text}"`)
  const total = hours * 3600 + minutes * 60 + seconds
  return zone[0] === '-' ? -total : total
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

function formatYmd(jd: number): [string, boolean] {
  const [year, month, day] = j2date(jd)
  const bc = year <= 0
  return [`${pad(bc ? 1 - year : year, 4)}-${pad(month, 2)}-${pad(day, 2)}`, bc]
}

export function formatDate(d: PgDate): string {
  if (d === Infinity) return 'infinity'
  if (d === -Infinity) return '-infinity'
  const [ymd, bc] = formatYmd(d + POSTGRES_EPOCH_JDATE)
  return bc ? `${ymd} BC` : ymd
}

export function formatTime(us: PgTime): string {
  const totalSeconds = Math.floor(us / 1e6)
  const fraction = us - totalSeconds * 1e6
  const h = Math.floor(totalSeconds / 3600)
  const m = Math.floor((totalSeconds % 3600) / 60)
  const s = totalSeconds % 60
  const frac = fraction === 0 ? '' : `.${pad(fraction, 6).replace(/0+$/, '')}`
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${frac}`
}

export function formatTimestamp(t: PgTimestamp, withZone: boolean): string {
  if (typeof t === 'number') return t > 0 ? 'infinity' : '-infinity'
  const days = floorDiv(t, USECS_PER_DAY_N)
  const tod = Number(t - days * USECS_PER_DAY_N)
  const [ymd, bc] = formatYmd(Number(days) + POSTGRES_EPOCH_JDATE)
  return `${ymd} ${formatTime(tod)}${withZone ? '+00' : ''}${bc ? ' BC' : ''}`
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n ? q - 1n : q
}

export function compareTimestamp(a: PgTimestamp, b: PgTimestamp): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export function dateToTimestamp(d: PgDate): PgTimestamp {
  if (!Number.isFinite(d)) return d
  const t = BigInt(d) * USECS_PER_DAY_N
  if (t < MIN_TIMESTAMP || t >= END_TIMESTAMP) fail('date out of range for timestamp')
  return t
}

/**
 * A date as a timestamp for the cross-type comparison operators, which do not fail for dates past the
 * timestamp range: those compare beyond every finite timestamp but before ±infinity.
 */
export function dateAsTimestamp(d: PgDate): PgTimestamp {
  if (!Number.isFinite(d)) return d
  const t = BigInt(d) * USECS_PER_DAY_N
  return t < MIN_TIMESTAMP ? MIN_TIMESTAMP - 1n : t >= END_TIMESTAMP ? END_TIMESTAMP : t
}

export function timestampToDate(t: PgTimestamp): PgDate {
  if (typeof t === 'number') return t
  return Number(floorDiv(t, USECS_PER_DAY_N))
}

export function timestampToTime(t: bigint): PgTime {
  return Number(t - floorDiv(t, USECS_PER_DAY_N) * USECS_PER_DAY_N)
}

export function addDays(d: PgDate, n: number): PgDate {
  if (!Number.isFinite(d)) return d
  const r = d + n
  if (r < DATE_MIN || r >= DATE_END) fail('date out of range')
  return r
}

export function subtractDates(a: PgDate, b: PgDate): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) fail('cannot subtract infinite dates')
  return a - b
}
