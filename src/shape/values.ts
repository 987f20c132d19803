// Values between Postgres text form (what Electric sends and what `$n` parameters carry) and the JS
// values `prisma.<model>.findMany` returns: Date, bigint, Prisma.Decimal, Uint8Array, parsed Json,
// enum value names, lists.
import { Decimal, isDbNull, isJsonNull } from '@prisma/client/runtime/client'
import { ShapeError } from './errors.js'
import type { FieldMeta, ModelMeta } from './model.js'
import {
  formatArray, formatBytea, formatDateTime, parseArray, parseBytea, parseDateTime, type DateTimeType,
} from './pg-text.js'

/** A row as Postgres text, keyed by column name; SQL NULL is `null`. */
export type TextRow = Readonly<Record<string, string | null | undefined>>

/**
 * The Postgres text form of a JS value for `field` (a whole list for list fields); `null` for SQL NULL.
 * Throws a ShapeError naming `path` when the value does not fit the field.
 */
export function toTextValue(field: FieldMeta, value: unknown, path: string = field.name): string | null {
  if (value === null || (field.type === 'Json' && isDbNull(value))) return null
  if (!field.isList) return scalarToText(field, value, path)
  if (!Array.isArray(value)) throw new ShapeError(path, `expected a list of ${expected(field)}, got ${describe(value)}`)
  return formatArray(value.map((item: unknown, i) => (item === null ? null : scalarToText(field, item, `${path}[${i}]`))))
}

/** The text form of one non-null value of the field's type (an element, for list fields). */
export function scalarToText(field: FieldMeta, value: unknown, path: string): string {
  const text = field.kind === 'enum' ? enumLabel(field, value) : scalarText[field.type]?.(value, field)
  if (text === undefined) throw new ShapeError(path, `expected ${expected(field)}, got ${describe(value)}`)
  if (typeof text === 'object') throw new ShapeError(path, text.problem)
  return text
}

type TextResult = string | undefined | { problem: string }
// What Postgres' uuid input takes: optional braces, hyphens optional between groups.
const uuidPattern = /^\{?[0-9a-f]{8}-?(?:[0-9a-f]{4}-?){3}[0-9a-f]{12}\}?$/i
const decimalPattern = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const intRanges: Record<string, [number, number]> = {
  int2: [-32768, 32767], int4: [-2147483648, 2147483647], oid: [0, 4294967295],
}
const int8Min = -(2n ** 63n)
const int8Max = 2n ** 63n - 1n

const scalarText: Record<string, (value: unknown, field: FieldMeta) => TextResult> = {
  String(value, field) {
    if (typeof value !== 'string') return undefined
    if (value.includes('\0')) return { problem: 'text cannot contain NUL (\\u0000) characters' }
    if (field.pgType !== 'uuid') return value
    if (!uuidPattern.test(value) || value.startsWith('{') !== value.endsWith('}')) return { problem: `"${value}" is not a uuid` }
    const hex = value.replace(/[{}-]/g, '').toLowerCase()
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  },
  Boolean: (value) => (typeof value === 'boolean' ? String(value) : undefined),
  Int(value, field) {
    if (typeof value !== 'number' || !Number.isInteger(value)) return undefined
    const [min, max] = intRanges[field.pgType] ?? intRanges.int4!
    return value >= min && value <= max ? String(value) : { problem: `${value} is out of range for ${field.pgType}` }
  },
  BigInt(value) {
    if (typeof value === 'number') {
      if (!Number.isInteger(value)) return undefined
      if (!Number.isSafeInteger(value)) return { problem: `${value} is not a safe integer; pass it as a bigint` }
      value = BigInt(value)
    }
    if (typeof value !== 'bigint') return undefined
    return value >= int8Min && value <= int8Max ? String(value) : { problem: `${value} is out of range for int8` }
  },
  Float(value) {
    if (typeof value !== 'number') return undefined
    if (!Number.isFinite(value)) return { problem: `${value} is not a finite number` }
    return Object.is(value, -0) ? '-0' : String(value)
  },
  Decimal(value) {
    let decimal: Decimal
    if (typeof value === 'string') {
      if (!decimalPattern.test(value)) return { problem: `"${value}" is not a decimal number` }
      decimal = new Decimal(value)
    } else if (typeof value === 'number' || isDecimalLike(value)) {
      decimal = new Decimal(typeof value === 'number' ? value : value.toFixed())
    } else {
      return undefined
    }
    if (!decimal.isFinite()) return { problem: `${decimal.toString()} is not a finite number` }
    // Postgres numeric limits: 131072 digits before the point, 16383 after.
    if (decimal.e >= 131072 || decimal.decimalPlaces() > 16383) return { problem: 'out of range for numeric' }
    return decimal.toFixed()
  },
  DateTime(value, field) {
    const date = toDate(value)
    if (date === undefined) return undefined
    if (Number.isNaN(date.getTime())) return { problem: typeof value === 'string' ? `"${value}" is not an ISO-8601 date-time with a time zone` : 'invalid Date' }
    return formatDateTime(date, dateTimeType(field))
  },
  Bytes: (value) => (value instanceof Uint8Array ? formatBytea(value) : undefined),
  Json(value) {
    if (isJsonNull(value)) return 'null'
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined
    try {
      return JSON.stringify(value)
    } catch (error) {
      return { problem: `not JSON-serializable: ${(error as Error).message}` }
    }
  },
}

function enumLabel(field: FieldMeta, value: unknown): TextResult {
  if (typeof value !== 'string') return undefined
  const label = field.enumValues?.get(value)
  if (label !== undefined) return label
  return { problem: `"${value}" is not a value of enum ${field.type} (${[...field.enumValues?.keys() ?? []].join(', ')})` }
}

// RFC 3339 as Prisma accepts it: seconds and a zone are required, `T` or a space between date and time.
const isoDateTime = /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/

function toDate(value: unknown): Date | undefined {
  if (value instanceof Date) return value
  if (typeof value !== 'string') return undefined
  const m = isoDateTime.exec(value)
  if (!m) return new Date(NaN)
  const [, year, month, day, hours, minutes, seconds, fraction = '', zone = ''] = m
  const date = new Date(`${year}-${month}-${day}T${hours}:${minutes}:${seconds}${fraction.slice(0, 4)}${zone.toUpperCase()}`)
  // Reject what Date would silently roll over (2024-02-30, 25:00:00).
  const shifted = new Date(date.getTime() + zoneOffsetMs(zone))
  const sameFields = shifted.getUTCFullYear() === Number(year) && shifted.getUTCMonth() + 1 === Number(month) &&
    shifted.getUTCDate() === Number(day) && shifted.getUTCHours() === Number(hours) &&
    shifted.getUTCMinutes() === Number(minutes) && shifted.getUTCSeconds() === Number(seconds)
  return sameFields ? date : new Date(NaN)
}

function zoneOffsetMs(zone: string): number {
  if (zone === 'Z' || zone === 'z') return 0
  const sign = zone.startsWith('-') ? -1 : 1
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000
}

function isDecimalLike(value: unknown): value is { toFixed(): string } {
  return typeof value === 'object' && value !== null && 'd' in value && 'e' in value && 's' in value &&
    typeof (value as { toFixed?: unknown }).toFixed === 'function'
}

function dateTimeType(field: FieldMeta): DateTimeType {
  const type = field.pgType
  return type === 'timestamp' || type === 'date' || type === 'time' || type === 'timetz' ? type : 'timestamptz'
}

/** What a field accepts, for error messages. */
export function expected(field: FieldMeta): string {
  if (field.kind === 'enum') return `a value of enum ${field.type}`
  switch (field.type) {
    case 'String': return field.pgType === 'uuid' ? 'a uuid string' : 'a string'
    case 'Boolean': return 'a boolean'
    case 'Int': return 'an integer'
    case 'BigInt': return 'a bigint or an integer number'
    case 'Float': return 'a number'
    case 'Decimal': return 'a Decimal, a number or a decimal string'
    case 'DateTime': return 'a Date or an ISO-8601 date-time string'
    case 'Bytes': return 'a Uint8Array'
    case 'Json': return 'a JSON value'
    default: return field.type
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number') return `the number ${value}`
  if (typeof value === 'object') return value.constructor && value.constructor !== Object ? `a ${value.constructor.name}` : 'an object'
  return `a ${typeof value}`
}

type Parser = (text: string) => unknown

/** Converts a row of Postgres text values (keyed by column) into the object findMany returns (keyed by field). */
export function parseRow<T = Record<string, unknown>>(model: ModelMeta, row: TextRow): T {
  const result: Record<string, unknown> = {}
  for (const { column, name, parse, isList } of rowParser(model)) {
    if (!Object.hasOwn(row, column)) continue
    const text = row[column]
    if (text === null || text === undefined) result[name] = isList ? [] : null // Prisma reads a NULL list as []
    else result[name] = isList ? parseArray(text).map((item) => (item === null ? null : parse(item))) : parse(text)
  }
  return result as T
}

interface ColumnParser { column: string; name: string; parse: Parser; isList: boolean }
const rowParsers = new WeakMap<ModelMeta, ColumnParser[]>()

function rowParser(model: ModelMeta): ColumnParser[] {
  let parsers = rowParsers.get(model)
  if (!parsers) {
    parsers = [...model.fields.values()]
      .filter((field) => field.kind !== 'object')
      .map((field) => ({ column: field.column, name: field.name, parse: parserFor(field), isList: field.isList }))
    rowParsers.set(model, parsers)
  }
  return parsers
}

function parserFor(field: FieldMeta): Parser {
  if (field.kind === 'enum') {
    const names = new Map([...field.enumValues ?? []].map(([name, label]) => [label, name]))
    return (text) => names.get(text) ?? text
  }
  switch (field.type) {
    case 'Boolean': return (text) => text === 't' || text === 'true'
    case 'Int':
    case 'Float': return Number
    case 'BigInt': return BigInt
    case 'Decimal': return (text) => new Decimal(text)
    case 'DateTime': {
      const type = dateTimeType(field)
      return (text) => parseDateTime(text, type)
    }
    case 'Bytes': return parseBytea
    case 'Json': return (text) => JSON.parse(text)
    default: return (text) => text
  }
}
