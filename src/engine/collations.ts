// The collations of a table's columns and of the database, read from the catalog in the where
// evaluator's terms. Every version difference of the catalog is handled here (datlocale in 17+,
// daticulocale in 15–16; colllocale / colliculocale), by reading whole rows as JSON.
import type { Collation } from '../where/index.js'

/** SQL for one column's pg_collation row (NULL for types without a collation); `a` is pg_attribute. */
export const COLUMN_COLLATION_SQL = `(SELECT to_jsonb(co)::text FROM pg_collation co WHERE co.oid = a.attcollation)`
/** SQL for the current database's pg_database row. */
export const DATABASE_COLLATION_SQL = `(SELECT to_jsonb(d)::text FROM pg_database d WHERE d.datname = current_database())`

type CatalogRow = Record<string, string | boolean | null | undefined>

const PROVIDERS: Readonly<Record<string, Collation['provider']>> = { c: 'libc', i: 'icu', b: 'builtin' }

/** The database's default collation from its pg_database row. */
export function databaseCollation(json: string): Collation {
  const d = JSON.parse(json) as CatalogRow
  const provider = PROVIDERS[String(d.datlocprovider ?? 'c')] ?? 'libc'
  const locale = String(d.datlocale ?? d.daticulocale ?? '')
  return provider === 'libc'
    ? { name: 'default', provider, collate: String(d.datcollate), ctype: String(d.datctype), deterministic: true }
    : { name: 'default', provider, collate: locale, ctype: locale, deterministic: true }
}

/** A column's collation from its pg_collation row; undefined for a type without one. */
export function columnCollation(json: string | null, database: Collation): Collation | undefined {
  if (json === null) return undefined
  const c = JSON.parse(json) as CatalogRow
  if (c.collprovider === 'd') return database // "default": the database's
  const provider = PROVIDERS[String(c.collprovider)] ?? 'libc'
  const name = String(c.collname)
  const deterministic = c.collisdeterministic !== false
  if (provider === 'libc') return { name, provider, collate: String(c.collcollate), ctype: String(c.collctype), deterministic }
  const locale = String(c.colllocale ?? c.colliculocale ?? c.collcollate ?? '')
  return { name, provider, collate: locale, ctype: locale, deterministic }
}
