// JSON values from a client → the values Prisma accepts for each field, keyed by Prisma field name.
//
// Keys may be field names (`ownerId`) or column names (`owner_id`, as rows from an Electric shape carry).
// Accepted values per type (anything else is a parse error naming the field):
//   String    string without NUL; for `uuid` columns a canonical UUID
//   Boolean   boolean, or 'true' / 'false' / 't' / 'f' (Postgres text)
//   Int       integer in int4 range, or its decimal string
//   BigInt    safe integer, or decimal string (lossless) → bigint
//   Float     number, or numeric string including 'NaN' / 'Infinity' / '-Infinity'
//   Decimal   number or numeric string → Decimal
//   DateTime  ISO 8601 (or Postgres text) string, or epoch milliseconds → Date
//   Json      any JSON value, as is (`null` means SQL NULL on a nullable column, JSON null otherwise)
//   Bytes     '\x…' hex (Postgres bytea text, what Electric sends), else base64 / base64url; or an array of bytes
//   enums     the Prisma value name or the database label → the Prisma name
//   lists     arrays of the element type
import { Decimal } from '@prisma/client/runtime/client'
import type { FieldMeta, ModelMeta } from '../shape/model.js'
import { WriterError, type WriterIssue } from './errors.js'

type Result = { value: unknown } | { problem: string }

/**
 * Maps the keys of `values` to fields of `model` and converts each value.
 * Throws a `parse` WriterError listing every bad key or value.
 */
export function coerceValues(
  model: ModelMeta,
  values: Record<string, unknown>,
  at: { index: number; part: 'data' | 'changes' },
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const issues: WriterIssue[] = []
  for (const [key, raw] of Object.entries(values)) {
    if (raw === undefined) continue
    const field = fieldFor(model, key)
    if (!field) {
      issues.push({ path: [at.part, key], message: `unknown field "${key}" on ${model.name}` })
      continue
    }
    if (Object.hasOwn(out, field.name)) {
      issues.push({ path: [at.part, key], message: `field "${field.name}" is given twice` })
      continue
    }
    const result = coerceField(field, raw)
    if ('problem' in result) issues.push({ path: [at.part, key], message: `${field.name}: ${result.problem}` })
    else out[field.name] = result.value
  }
  if (issues.length > 0) {
    throw new WriterError({
      step: 'parse',
      kind: 'invalid',
      operationIndex: at.index,
      reason: issues.map((i) => i.message).join('; '),
      issues,
    })
  }
  return out
}

function fieldFor(model: ModelMeta, key: string): FieldMeta | undefined {
  const byName = model.fields.get(key)
  if (byName && byName.kind !== 'object') return byName
  return model.byColumn.get(key)
}

function coerceField(field: FieldMeta, value: unknown): Result {
  try {
    return coerceNullable(field, value)
  } catch {
    // a converter refusing an extreme input (e.g. a huge string) is still just a bad value
    return { problem: 'invalid value' }
  }
}

function coerceNullable(field: FieldMeta, value: unknown): Result {
  if (value === null) {
    // Json keeps null: the write step decides between SQL NULL and JSON null.
    if (field.type === 'Json' && !field.isList) return { value: null }
    return field.isRequired ? { problem: 'must not be null' } : { value: null }
  }
  if (!field.isList) return coerceScalar(field, value)
  if (!Array.isArray(value)) return { problem: 'expected an array' }
  const items: unknown[] = []
  for (const [i, item] of value.entries()) {
    const result = item === null ? { problem: 'must not be null' } : coerceScalar(field, item)
    if ('problem' in result) return { problem: `[${i}] ${result.problem}` }
    items.push(result.value)
  }
  return { value: items }
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const integer = /^[+-]?\d+$/
const numeric = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i
const INT4 = [-(2 ** 31), 2 ** 31 - 1] as const
const INT8 = [-(2n ** 63n), 2n ** 63n - 1n] as const

function coerceScalar(field: FieldMeta, value: unknown): Result {
  if (field.kind === 'enum') return coerceEnum(field, value)
  switch (field.type) {
    case 'String':
      if (typeof value !== 'string') return { problem: 'expected a string' }
      if (value.includes('\u0000')) return { problem: 'text cannot contain NUL characters' }
      if (field.pgType === 'uuid' && !uuid.test(value)) return { problem: 'expected a UUID' }
      return { value }
    case 'Boolean':
      if (typeof value === 'boolean') return { value }
      if (value === 'true' || value === 't') return { value: true }
      if (value === 'false' || value === 'f') return { value: false }
      return { problem: 'expected a boolean' }
    case 'Int': {
      const n = typeof value === 'string' && integer.test(value) ? Number(value) : value
      if (typeof n !== 'number' || !Number.isInteger(n)) return { problem: 'expected an integer' }
      if (n < INT4[0] || n > INT4[1]) return { problem: 'out of range for a 32-bit integer' }
      return { value: n }
    }
    case 'BigInt': {
      let n: bigint
      if (typeof value === 'bigint') n = value
      else if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value)
      else if (typeof value === 'string' && integer.test(value)) n = BigInt(value)
      else return { problem: 'expected an integer (as a string when beyond 2^53)' }
      if (n < INT8[0] || n > INT8[1]) return { problem: 'out of range for a 64-bit integer' }
      return { value: n }
    }
    case 'Float':
      if (typeof value === 'number') return { value }
      if (typeof value === 'string' && (numeric.test(value) || /^(NaN|-?Infinity)$/.test(value))) return { value: Number(value) }
      return { problem: 'expected a number' }
    case 'Decimal':
      if (Decimal.isDecimal(value)) return { value }
      if (typeof value === 'number' && Number.isFinite(value)) return { value: new Decimal(value) }
      if (typeof value === 'string' && (numeric.test(value) || value === 'NaN')) return { value: new Decimal(value) }
      return { problem: 'expected a decimal number or a numeric string' }
    case 'DateTime': {
      const date = value instanceof Date ? value
        : typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)) ? new Date(value)
        : undefined
      if (!date || Number.isNaN(date.getTime())) return { problem: 'expected an ISO 8601 date-time' }
      return { value: date }
    }
    case 'Json':
      return hasNul(value) ? { problem: 'JSON text cannot contain NUL characters' } : { value }
    case 'Bytes':
      return coerceBytes(value)
    default:
      return { problem: `unsupported type ${field.type}` }
  }
}

function coerceEnum(field: FieldMeta, value: unknown): Result {
  if (typeof value === 'string' && field.enumValues) {
    if (field.enumValues.has(value)) return { value }
    for (const [name, label] of field.enumValues) if (label === value) return { value: name }
  }
  return { problem: `expected one of ${[...(field.enumValues?.keys() ?? [])].map((v) => JSON.stringify(v)).join(', ')}` }
}

const hex = /^\\x([0-9a-f]{2})*$/i
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const base64url = /^[A-Za-z0-9_-]*$/

function coerceBytes(value: unknown): Result {
  if (value instanceof Uint8Array) return { value }
  if (typeof value === 'string') {
    if (value.startsWith('\\x')) {
      return hex.test(value) ? { value: new Uint8Array(Buffer.from(value.slice(2), 'hex')) } : { problem: 'invalid \\x hex bytes' }
    }
    if (base64.test(value)) return { value: new Uint8Array(Buffer.from(value, 'base64')) }
    if (base64url.test(value)) return { value: new Uint8Array(Buffer.from(value, 'base64url')) }
    return { problem: 'expected \\x-prefixed hex or base64 bytes' }
  }
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
    return { value: Uint8Array.from(value as number[]) }
  }
  return { problem: 'expected \\x-prefixed hex, base64 or an array of bytes' }
}

/** Whether a JSON value holds a NUL character in any string or key; iterative, as input may nest deeply. */
function hasNul(value: unknown): boolean {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item)
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, item] of Object.entries(v)) {
        if (k.includes('\u0000')) return true
        stack.push(item)
      }
    }
  }
  return false
}
