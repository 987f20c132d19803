// Postgres text formats that need more than `String()`: array literals, bytea hex, dates and times.
// Output matches what Postgres prints with DateStyle=ISO and TimeZone=UTC, so values round-trip exactly.
import { parseArrayText } from '../where/codec.js'

/** `{"a","b c",NULL}`: every element quoted, `"` and `\` backslash-escaped. */
export function formatArray(items: readonly (string | null)[]): string {
  return `{${items.map((item) => (item === null ? 'NULL' : `"${item.replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`
}

/** Parses a one-dimensional array literal such as `{1,2,NULL}` or `{"a b","c\"d"}` (Postgres's array_in). */
export function parseArray(text: string): (string | null)[] {
  const body = text.startsWith('[') ? text.slice(text.indexOf('=') + 1).trimStart() : text // `[0:1]={…}`
  if (!body.startsWith('{') || !text.endsWith('}')) throw new Error(`not an array literal: ${text}`)
  const array = parseArrayText(text)
  if (array.dims.length > 1) throw new Error(`nested arrays are not supported: ${text}`)
  return array.items
}

export function formatBytea(bytes: Uint8Array): string {
  let hex = '\\x'
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0')
  return hex
}

export function parseBytea(text: string): Uint8Array {
  if (!text.startsWith('\\x')) throw new Error('bytea must be in hex format (bytea_output=hex)')
  const bytes = new Uint8Array((text.length - 2) / 2)
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(2 + 2 * i, 4 + 2 * i), 16)
  return bytes
}

export type DateTimeType = 'timestamptz' | 'timestamp' | 'date' | 'time' | 'timetz'

/** A JS Date as Postgres prints a value of `pgType` in UTC. */
export function formatDateTime(date: Date, pgType: DateTimeType): string {
  const year = date.getUTCFullYear()
  const bc = year <= 0 ? ' BC' : ''
  const day = `${String(bc ? 1 - year : year).padStart(4, '0')}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`
  const ms = date.getUTCMilliseconds()
  const fraction = ms ? `.${String(ms).padStart(3, '0').replace(/0+$/, '')}` : ''
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${fraction}`
  switch (pgType) {
    case 'date': return `${day}${bc}`
    case 'time': return time
    case 'timetz': return `${time}+00`
    case 'timestamp': return `${day} ${time}${bc}`
    case 'timestamptz': return `${day} ${time}+00${bc}`
  }
}

const timestampPattern =
  /^(\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?( BC)?$/
const timePattern = /^(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?$/

/** Parses Postgres date/time text into the Date Prisma returns (time types on 1970-01-01 UTC). */
export function parseDateTime(text: string, pgType: DateTimeType): Date {
  if (pgType === 'time' || pgType === 'timetz') {
    const m = timePattern.exec(text)
    if (!m) throw new Error(`not a ${pgType} value: ${text}`)
    return utcDate(1970, 1, 1, m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8])
  }
  const m = timestampPattern.exec(text)
  // infinity / -infinity have no JS Date; Prisma returns an Invalid Date for them too.
  if (!m) {
    if (/^-?infinity$/.test(text)) return new Date(NaN)
    throw new Error(`not a ${pgType} value: ${text}`)
  }
  const year = Number(m[1])
  return utcDate(m[12] ? 1 - year : year, Number(m[2]), Number(m[3]), m[4], m[5], m[6], m[7], m[8], m[9], m[10], m[11])
}

function utcDate(
  year: number, month: number, day: number,
  hours = '0', minutes = '0', seconds = '0', fraction = '',
  sign?: string, offsetHours = '0', offsetMinutes = '0', offsetSeconds = '0',
): Date {
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day) // not Date.UTC: it maps years 0-99 to 1900-1999
  date.setUTCHours(Number(hours), Number(minutes), Number(seconds), Number(fraction.padEnd(3, '0').slice(0, 3)))
  const offset = (Number(offsetHours) * 3600 + Number(offsetMinutes) * 60 + Number(offsetSeconds)) * 1000
  return new Date(date.getTime() - (sign === '-' ? -offset : offset))
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}
