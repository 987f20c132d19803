// Raw keyword shapes (`{ table, where, params, columns, replica }`), validated the way Electric reads its
// shape parameters. Whether the table exists and the where clause parses is checked by the engine.
import { defaultLimits, LimitError, type SyncLimits } from '../limits/index.js'
import type { Replica, ShapeDefinition } from './definition.js'
import { ShapeError } from './errors.js'
import { MAX_BIND_PARAMS } from './sql.js'
import { describe } from './values.js'

export type KeywordParam = string | number | bigint | boolean | Date

export interface KeywordShapeInput {
  /** `table`, `schema.table` or quoted `"Table"`: unquoted names are lowercased, as in Postgres and Electric. */
  table: string
  /** Schema, with the same identifier rules; `public` by default. */
  namespace?: string
  /** SQL condition with `$1..$n` placeholders. */
  where?: string
  /** Placeholder values: `params[0]` is `$1`, or Electric's `{ "1": ... }` form. Sent to Postgres as text. */
  params?: readonly KeywordParam[] | Readonly<Record<string, KeywordParam>>
  /** Column names exactly as in the database. */
  columns?: readonly string[]
  replica?: Replica
}

const keys = new Set(['table', 'namespace', 'where', 'params', 'columns', 'replica'])

/** `limits`: whereBytes (the where clause's UTF-8 bytes) and shapeParams in force. */
export function keywordShape(input: KeywordShapeInput, limits: Pick<SyncLimits, 'whereBytes' | 'shapeParams'> = defaultLimits): ShapeDefinition {
  if (typeof input !== 'object' || input === null) throw new ShapeError('shape', `expected a shape object, got ${describe(input)}`)
  for (const key of Object.keys(input)) {
    if (!keys.has(key)) throw new ShapeError(key, `unknown shape option; expected one of ${[...keys].join(', ')}`)
  }
  if (typeof input.table !== 'string') throw new ShapeError('table', `expected a table name, got ${describe(input.table)}`)
  const name = parseQualifiedName(input.table, 'table')
  if (name.length > 2) throw new ShapeError('table', `expected table or schema.table, got "${input.table}"`)
  let namespace = name.length === 2 ? name[0]! : 'public'
  if (input.namespace !== undefined) {
    if (name.length === 2) throw new ShapeError('namespace', 'the table name already names a schema')
    if (typeof input.namespace !== 'string') throw new ShapeError('namespace', `expected a schema name, got ${describe(input.namespace)}`)
    const parts = parseQualifiedName(input.namespace, 'namespace')
    if (parts.length !== 1) throw new ShapeError('namespace', `expected one schema name, got "${input.namespace}"`)
    namespace = parts[0]!
  }
  const definition: ShapeDefinition = { table: name.at(-1)!, namespace, replica: replicaOf(input.replica) }
  if (input.where !== undefined) {
    if (typeof input.where !== 'string' || !input.where.trim()) {
      throw new ShapeError('where', `expected a SQL condition, got ${describe(input.where)}`)
    }
    if (input.where.includes('\0')) throw new ShapeError('where', 'must not contain NUL characters')
    const bytes = Buffer.byteLength(input.where)
    if (bytes > limits.whereBytes) throw new LimitError('whereBytes', limits.whereBytes, `the where clause has ${bytes} bytes`)
    definition.where = input.where
  }
  if (input.params !== undefined) {
    if (definition.where === undefined) throw new ShapeError('params', 'params need a where clause that uses them')
    const params = paramsOf(input.params, Math.min(limits.shapeParams, MAX_BIND_PARAMS))
    if (params.length) definition.params = params
  }
  if (input.columns !== undefined) definition.columns = columnsOf(input.columns)
  return definition
}

export function replicaOf(value: unknown): Replica {
  if (value === undefined || value === 'default' || value === 'full') return value ?? 'default'
  throw new ShapeError('replica', `expected 'default' or 'full', got ${describe(value)}`)
}

/** Splits `a.b` into identifiers: `"quoted"` ones keep their text (`""` is a quote), bare ones are lowercased. */
function parseQualifiedName(text: string, path: string): string[] {
  const parts: string[] = []
  let i = 0
  for (;;) {
    let part: string
    if (text[i] === '"') {
      part = ''
      for (i++; ; i++) {
        if (i >= text.length) throw new ShapeError(path, `unterminated quoted identifier in "${text}"`)
        if (text[i] === '"') {
          if (text[i + 1] !== '"') break
          i++
        }
        part += text[i]
      }
      i++
    } else {
      const match = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(text.slice(i))
      if (!match) throw new ShapeError(path, `"${text}" is not a valid identifier; quote names with special characters`)
      part = match[0].replace(/[A-Z]/g, (c) => c.toLowerCase())
      i += match[0].length
    }
    parts.push(checkIdentifier(part, path))
    if (i === text.length) return parts
    if (text[i] !== '.') throw new ShapeError(path, `"${text}" is not a valid identifier; quote names with special characters`)
    i++
  }
}

function checkIdentifier(name: string, path: string): string {
  if (!name) throw new ShapeError(path, 'identifiers cannot be empty')
  if (name.includes('\0')) throw new ShapeError(path, 'identifiers cannot contain NUL characters')
  if (Buffer.byteLength(name) > 63) throw new ShapeError(path, `"${name}" is longer than Postgres' 63-byte identifier limit`)
  return name
}

function paramsOf(params: unknown, max: number): string[] {
  const tooMany = (count: number) => new LimitError('shapeParams', max, `the shape has ${count} parameters`)
  let values: unknown[]
  if (Array.isArray(params)) {
    if (params.length > max) throw tooMany(params.length)
    values = params
  } else if (typeof params === 'object' && params !== null) {
    const record = params as Record<string, unknown>
    const count = Object.keys(record).length
    if (count > max) throw tooMany(count)
    for (const key of Object.keys(record)) {
      if (!/^[1-9]\d*$/.test(key) || Number(key) > count) {
        throw new ShapeError(`params.${key}`, `expected keys "1" to "${count}" naming placeholders $1 to $${count}`)
      }
    }
    values = Array.from({ length: count }, (_, i) => record[String(i + 1)])
  } else {
    throw new ShapeError('params', `expected an array or a { "1": value } object, got ${describe(params)}`)
  }
  return values.map((value, i) => paramText(value, `params[${i}]`))
}

function paramText(value: unknown, path: string): string {
  switch (typeof value) {
    case 'string':
      if (value.includes('\0')) throw new ShapeError(path, 'text cannot contain NUL (\\u0000) characters')
      return value
    case 'boolean':
    case 'bigint':
      return String(value)
    case 'number':
      if (!Number.isFinite(value)) throw new ShapeError(path, `${value} is not a finite number`)
      return String(value)
  }
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString()
  throw new ShapeError(path, `expected a string, number, bigint, boolean or Date, got ${describe(value)}`)
}

function columnsOf(columns: unknown): string[] {
  if (!Array.isArray(columns) || columns.length === 0) {
    throw new ShapeError('columns', `expected a non-empty array of column names, got ${describe(columns)}`)
  }
  const seen = new Set<string>()
  for (const [i, column] of columns.entries()) {
    if (typeof column !== 'string') throw new ShapeError(`columns[${i}]`, `expected a column name, got ${describe(column)}`)
    checkIdentifier(column, `columns[${i}]`)
    if (seen.has(column)) throw new ShapeError(`columns[${i}]`, `"${column}" is listed twice`)
    seen.add(column)
  }
  return [...seen]
}
