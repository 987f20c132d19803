// The collations of a table's columns and of the database, read from the catalog in the where
// evaluator's terms. Every version difference of the catalog is handled here (datlocale in 17+,
// daticulocale in 15–16; colllocale / colliculocale), by reading whole rows as JSON. The evaluator's
// glibc case tables are checked against the server's before a collation is said to use them.
import type pg from 'pg'
import { quoteIdent } from '../shape/sql.js'
import { caseMappingOf, type Collation } from '../where/collation.js'
import { caseProbe, lowerFor, upperFor } from '../where/text.js'

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

const checked = new WeakMap<object, Map<string, Promise<boolean>>>()
let probe: string | undefined

/**
 * The collation, marked `caseTablesDiffer` when its case mapping is one the evaluator reproduces
 * (glibc's tables) but the server's lower()/upper() disagree with it on some character (another glibc
 * version): shapes then get lower/upper/ILIKE under it refused instead of evaluated differently.
 * Checked once per collation and connection pool.
 */
export async function checkCaseTables(db: pg.ClientBase | pg.Pool, collation: Collation): Promise<Collation> {
  if (caseMappingOf(collation) !== 'unicode') return collation
  let byName = checked.get(db)
  if (!byName) checked.set(db, (byName = new Map()))
  let same = byName.get(collation.name)
  if (!same) {
    probe ??= caseProbe()
    const text = probe
    const name = quoteIdent(collation.name)
    same = db.query<{ l: string; u: string }>(`SELECT lower($1 COLLATE ${name}) AS l, upper($1 COLLATE ${name}) AS u`, [text])
      .then(({ rows }) => rows[0]!.l === lowerFor('unicode')(text) && rows[0]!.u === upperFor('unicode')(text))
      .catch(() => false) // a collation the query cannot name (another schema): do not claim to match it
    byName.set(collation.name, same)
  }
  return (await same) ? collation : { ...collation, caseTablesDiffer: true }
}
