// What the engine reads from the Postgres catalog: table columns, types and primary keys.
// (Publishing a table and its replica identity: publication.ts.)
import type pg from 'pg'
import { quoteIdent } from '../shape/sql.js'
import type { Collation } from '../where/index.js'
import { checkCaseTables, columnCollation, COLUMN_COLLATION_SQL, DATABASE_COLLATION_SQL, databaseCollation } from './collations.js'
import { missingTable, refusePersistence, refuseSystemSchema } from './replicable.js'

export interface ColumnInfo {
  name: string
  /** Type name; for arrays the element type (as Electric's schema reports it). */
  type: string
  dims: number
  notNull: boolean
  isEnum: boolean
  /** An enum's labels in sort order. */
  enumLabels?: string[]
  typeOid: number
  /** Position in the primary key, if part of it. */
  pkIndex?: number
  /** A generated column (`GENERATED ALWAYS AS (...) STORED`, or VIRTUAL on Postgres 18). */
  generated?: 'stored' | 'virtual'
  /** varchar/bpchar length, numeric precision/scale, as Electric's schema reports them. */
  maxLength?: number
  length?: number
  precision?: number
  scale?: number
  /** The collation of a text, varchar or bpchar column (or array); the database's for `default`. */
  collation?: Collation
}

export interface TableInfo {
  oid: number
  namespace: string
  table: string
  columns: ColumnInfo[]
  byName: Map<string, ColumnInfo>
  /** Primary-key column names in key order (all columns sorted by name when there is no key). */
  primaryKey: string[]
  /** The database's default collation, which literals and parameters of the where clause take. */
  defaultCollation: Collation
}

export { quoteIdent }
export const qualified = (namespace: string, table: string): string => `${quoteIdent(namespace)}.${quoteIdent(table)}`

export async function loadTable(db: pg.ClientBase | pg.Pool, namespace: string, table: string): Promise<TableInfo> {
  refuseSystemSchema(namespace, table)
  const { rows } = await db.query<{
    oid: number; attname: string; attnotnull: boolean; atttypid: number
    atttypmod: number; typname: string; typtype: string; elemname: string | null; elemtype: string | null
    pk_index: number | null; enum_labels: string[] | null; attgenerated: string
    collation: string | null; database_collation: string; persistence: string
  }>(
    `SELECT c.oid::int AS oid, c.relpersistence::text AS persistence, a.attname, a.attnotnull,
            a.atttypid::int AS atttypid, a.atttypmod, a.attgenerated::text AS attgenerated, t.typname, t.typtype::text AS typtype,
            et.typname AS elemname, et.typtype::text AS elemtype,
            (SELECT array_position(i.indkey::int2[], a.attnum) FROM pg_index i -- int2vector subscripts start at 0
              WHERE i.indrelid = c.oid AND i.indisprimary) AS pk_index,
            (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e
              WHERE e.enumtypid = COALESCE(et.oid, t.oid)) AS enum_labels,
            ${COLUMN_COLLATION_SQL} AS collation, ${DATABASE_COLLATION_SQL} AS database_collation
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
      ORDER BY a.attnum`,
    [namespace, table],
  )
  if (rows.length === 0) throw await missingTable(db, namespace, table)
  refusePersistence(namespace, table, rows[0]!.persistence)
  const defaultCollation = await checkCaseTables(db, databaseCollation(rows[0]!.database_collation))
  const columns = rows.map((r): ColumnInfo => {
    const isArray = r.elemname !== null
    const type = isArray ? r.elemname! : r.typname
    const column: ColumnInfo = {
      name: r.attname,
      type,
      dims: isArray ? 1 : 0,
      notNull: r.attnotnull,
      isEnum: (isArray ? r.elemtype : r.typtype) === 'e',
      typeOid: r.atttypid,
    }
    if (r.pk_index !== null) column.pkIndex = r.pk_index
    if (r.enum_labels) column.enumLabels = r.enum_labels
    const collation = columnCollation(r.collation, defaultCollation)
    if (collation) column.collation = collation
    if (r.attgenerated === 's' || r.attgenerated === 'v') column.generated = r.attgenerated === 's' ? 'stored' : 'virtual'
    Object.assign(column, typeModifiers(type, r.atttypmod))
    return column
  })
  for (const c of columns) if (c.collation && c.collation !== defaultCollation) c.collation = await checkCaseTables(db, c.collation)
  const keyed = columns.filter((c) => c.pkIndex !== undefined).sort((a, b) => a.pkIndex! - b.pkIndex!)
  return {
    oid: rows[0]!.oid,
    namespace,
    table,
    columns,
    byName: new Map(columns.map((c) => [c.name, c])),
    primaryKey: keyed.length > 0 ? keyed.map((c) => c.name) : columns.map((c) => c.name).sort(),
    defaultCollation,
  }
}

function typeModifiers(type: string, typmod: number): Partial<ColumnInfo> {
  if (typmod < 0) return {}
  if (type === 'varchar') return { maxLength: typmod - 4 }
  if (type === 'bpchar') return { length: typmod - 4 }
  if (type === 'numeric') return { precision: ((typmod - 4) >> 16) & 0xffff, scale: (typmod - 4) & 0xffff }
  return {}
}

/** Electric's `electric-schema` for the selected columns. */
export function electricSchema(table: TableInfo, columns: string[]): Record<string, Record<string, unknown>> {
  const schema: Record<string, Record<string, unknown>> = {}
  for (const name of columns) {
    const c = table.byName.get(name)!
    const entry: Record<string, unknown> = { type: c.type }
    if (c.dims > 0) entry.dims = c.dims
    if (c.pkIndex !== undefined) entry.pk_index = c.pkIndex
    if (c.notNull) entry.not_null = true
    for (const key of ['maxLength', 'length', 'precision', 'scale'] as const) {
      if (c[key] !== undefined) entry[key === 'maxLength' ? 'max_length' : key] = c[key]
    }
    schema[name] = entry
  }
  return schema
}
