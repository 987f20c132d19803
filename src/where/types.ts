// The type model: Postgres type names, categories and the implicit conversions operator resolution uses.
import type { Collation } from './collation.js'
import { WhereError } from './errors.js'

/** The scalar types the evaluator knows; `unknown` is an untyped literal or parameter. */
export type Kind =
  | 'int2' | 'int4' | 'int8' | 'numeric' | 'float4' | 'float8'
  | 'text' | 'varchar' | 'bpchar' | 'bool' | 'uuid'
  | 'date' | 'time' | 'timestamp' | 'timestamptz' | 'bytea'
  | 'enum' | 'unknown' | 'unsupported'

export interface PgType {
  readonly kind: Kind
  /** The Postgres type name: 'int4', an enum's name, or an unsupported type's name such as 'jsonb'. */
  readonly name: string
  readonly array: boolean
  /** An enum's labels in sort order, when known. */
  readonly labels?: readonly string[] | undefined
}

/** A column's type as the shape layer describes it. */
export interface ColumnType {
  /** Postgres type name: int4, text, uuid, timestamptz, numeric, bool, … or an enum type's name. */
  type: string
  /** 0 for scalars, 1 (or more) for arrays. */
  dims: number
  isEnum?: boolean
  /** An enum's labels in sort order; without them an enum supports =, <>, IN but not < >. */
  enumLabels?: readonly string[]
  /**
   * The column's collation (pg_attribute.attcollation; `name: 'default'` for the database's), for text,
   * varchar, bpchar and their arrays. Absent: the compiler's default collation.
   */
  collation?: Collation
}

export type ColumnTypes = ReadonlyMap<string, ColumnType>

const KINDS = new Set<Kind>([
  'int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'text', 'varchar', 'bpchar', 'bool', 'uuid',
  'date', 'time', 'timestamp', 'timestamptz', 'bytea',
])

/** Spellings the parser leaves as plain identifiers, and the SQL names, mapped to Postgres type names. */
const ALIASES: Record<string, string> = {
  smallint: 'int2', int: 'int4', integer: 'int4', bigint: 'int8', decimal: 'numeric', real: 'float4',
  float: 'float8', 'double precision': 'float8', boolean: 'bool', 'character varying': 'varchar',
  character: 'bpchar', 'timestamp without time zone': 'timestamp',
  'timestamp with time zone': 'timestamptz', 'time without time zone': 'time',
}

export function canonicalTypeName(name: string): string {
  const lower = name.toLowerCase()
  return ALIASES[lower] ?? lower
}

export const UNKNOWN: PgType = { kind: 'unknown', name: 'unknown', array: false }
const scalars = new Map<string, PgType>()
for (const kind of KINDS) scalars.set(kind, { kind, name: kind, array: false })

export function scalar(kind: Kind): PgType {
  return scalars.get(kind) ?? { kind, name: kind, array: false }
}
export const BOOL = scalar('bool')
export const TEXT = scalar('text')
export const INT4 = scalar('int4')

export function arrayOf(t: PgType): PgType {
  return { ...t, array: true }
}

export function elementOf(t: PgType): PgType {
  return t.array ? (t.kind === 'enum' || t.kind === 'unsupported' ? { ...t, array: false } : scalar(t.kind)) : t
}

/** Builds the type of a column. Types the evaluator does not handle (jsonb, interval, …) are kept opaque. */
export function columnType(column: string, ct: ColumnType): PgType {
  const name = canonicalTypeName(ct.type)
  let t: PgType
  if (ct.isEnum) t = { kind: 'enum', name: ct.type, array: false, labels: ct.enumLabels }
  else if (KINDS.has(name as Kind)) t = scalar(name as Kind)
  else if (ct.type.length > 0) t = { kind: 'unsupported', name, array: false }
  else throw new WhereError(`column "${column}" has no type`)
  return ct.dims > 0 ? arrayOf(t) : t
}

const DISPLAY: Partial<Record<string, string>> = {
  int2: 'smallint', int4: 'integer', int8: 'bigint', float4: 'real', float8: 'double precision',
  bool: 'boolean', varchar: 'character varying', bpchar: 'character', time: 'time without time zone',
  timestamp: 'timestamp without time zone', timestamptz: 'timestamp with time zone',
}

/** The name Postgres uses in messages, e.g. `integer[]`. */
export function typeLabel(t: PgType): string {
  const base = DISPLAY[t.name] ?? t.name
  return t.array ? `${base}[]` : base
}

export function sameType(a: PgType, b: PgType): boolean {
  return a.kind === b.kind && a.name === b.name && a.array === b.array
}

const NUMERIC_RANK: Partial<Record<Kind, number>> = { int2: 1, int4: 2, int8: 3, numeric: 4, float4: 5, float8: 6 }
const DATETIME_RANK: Partial<Record<Kind, number>> = { date: 1, timestamp: 2, timestamptz: 3 }
const STRING: Partial<Record<Kind, true>> = { text: true, varchar: true, bpchar: true }

export function isNumeric(t: PgType): boolean {
  return !t.array && NUMERIC_RANK[t.kind] !== undefined
}
export function isInteger(t: PgType): boolean {
  return !t.array && (t.kind === 'int2' || t.kind === 'int4' || t.kind === 'int8')
}
export function isString(t: PgType): boolean {
  return !t.array && STRING[t.kind] === true
}
/** Whether values of the type have a collation: the string types and arrays of them. */
export function isCollatable(t: PgType): boolean {
  return STRING[t.kind] === true
}

/**
 * The type two scalar operands of a comparison are converted to, following Postgres's operator
 * resolution: the wider of two numeric types (anything with a float compares as float8, the cross-type
 * float operators widen to double), text for mixed string types, the wider datetime type. Undefined
 * when no operator exists.
 */
export function comparisonType(a: PgType, b: PgType): PgType | undefined {
  if (a.kind === 'unknown') return b.kind === 'unknown' ? TEXT : b
  if (b.kind === 'unknown') return a
  if (a.array || b.array) return sameType(a, b) ? a : undefined
  const na = NUMERIC_RANK[a.kind]
  const nb = NUMERIC_RANK[b.kind]
  if (na !== undefined && nb !== undefined) {
    if (na >= 5 || nb >= 5) return a.kind === b.kind ? a : scalar('float8')
    return na >= nb ? a : b
  }
  if (STRING[a.kind] && STRING[b.kind]) {
    // bpchar = bpchar is chosen when the other side is bpchar or varchar (more exact matches); else text.
    const bp = (x: PgType, y: PgType) => x.kind === 'bpchar' && y.kind !== 'text'
    return bp(a, b) || bp(b, a) ? scalar('bpchar') : TEXT
  }
  const da = DATETIME_RANK[a.kind]
  const db = DATETIME_RANK[b.kind]
  if (da !== undefined && db !== undefined) return da >= db ? a : b
  if (a.kind === 'unsupported' || b.kind === 'unsupported') return undefined
  return sameType(a, b) ? a : undefined
}

/**
 * select_common_type for COALESCE, IN lists, ARRAY[...]: unknowns take the others' type (text if all are
 * unknown); a later type replaces the current one only if the current converts to it implicitly and not back.
 */
export function commonType(types: readonly PgType[]): PgType | undefined {
  let result: PgType = UNKNOWN
  for (const t of types) {
    if (t.kind === 'unknown') continue
    if (result.kind === 'unknown') {
      result = t
      continue
    }
    const next = commonOfTwo(result, t)
    if (!next) return undefined
    result = next
  }
  return result.kind === 'unknown' ? TEXT : result
}

function commonOfTwo(a: PgType, b: PgType): PgType | undefined {
  if (sameType(a, b)) return a
  if (a.array || b.array) return undefined
  const na = NUMERIC_RANK[a.kind]
  const nb = NUMERIC_RANK[b.kind]
  if (na !== undefined && nb !== undefined) return na >= nb ? a : b
  if (STRING[a.kind] && STRING[b.kind]) return a // all convert implicitly both ways: the first one stays
  const da = DATETIME_RANK[a.kind]
  const db = DATETIME_RANK[b.kind]
  if (da !== undefined && db !== undefined) return da >= db ? a : b
  return undefined
}

/** Whether Postgres converts `from` to `to` implicitly (for operator and function arguments). */
export function implicitlyConvertible(from: PgType, to: PgType): boolean {
  if (from.kind === 'unknown' || sameType(from, to)) return true
  if (from.array || to.array) return from.array && to.array && implicitlyConvertible(elementOf(from), elementOf(to))
  const nf = NUMERIC_RANK[from.kind]
  const nt = NUMERIC_RANK[to.kind]
  if (nf !== undefined && nt !== undefined) return nf <= nt
  if (STRING[from.kind] && STRING[to.kind]) return true
  const df = DATETIME_RANK[from.kind]
  const dt = DATETIME_RANK[to.kind]
  return df !== undefined && dt !== undefined && df <= dt
}
