// Which relations a shape can be built on. Invariant: the engine serves only what logical replication
// carries — ordinary and partitioned tables, permanent (not temporary or unlogged), outside the system
// schemas — and refuses anything else when the shape is created, with a 400 naming the relation and what
// is supported, before it tries to publish it (ALTER TABLE on a system catalog, a view in a publication).
import type pg from 'pg'
import { quoteIdent } from '../shape/sql.js'
import { EngineError } from './errors.js'

const supported = 'Only ordinary and partitioned tables that are neither temporary nor unlogged, outside the system schemas, can be synced.'

const name = (namespace: string, table: string) => `${quoteIdent(namespace)}.${quoteIdent(table)}`

/** System schemas (pg_catalog, pg_toast, temporary schemas pg_temp_N, information_schema): refused by name, no query. */
export function refuseSystemSchema(namespace: string, table: string): void {
  if (!namespace.startsWith('pg_') && namespace !== 'information_schema') return
  throw new EngineError('table', `${name(namespace, table)} is in the system schema ${quoteIdent(namespace)}, whose tables are not replicated. ${supported}`)
}

/** A table found, but one logical replication does not carry (`relpersistence` 't' or 'u'). */
export function refusePersistence(namespace: string, table: string, persistence: string): void {
  if (persistence === 'p') return
  const kind = persistence === 't' ? 'a temporary table' : 'an unlogged table'
  throw new EngineError('table', `${name(namespace, table)} is ${kind}, whose changes Postgres does not replicate. ${supported}`)
}

const kinds: Record<string, string> = {
  v: 'a view', m: 'a materialized view', f: 'a foreign table', S: 'a sequence', i: 'an index', I: 'a partitioned index',
  c: 'a composite type', t: 'a TOAST table',
}

/** The error for a name with no table under it: what it is instead, if it is anything. */
export async function missingTable(db: pg.ClientBase | pg.Pool, namespace: string, table: string): Promise<EngineError> {
  const { rows } = await db.query<{ relkind: string }>(
    `SELECT c.relkind::text AS relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [namespace, table],
  )
  const kind = rows[0] ? kinds[rows[0].relkind] : undefined
  if (kind) return new EngineError('table', `${name(namespace, table)} is ${kind}, not a table: its rows are not replicated. ${supported}`)
  return new EngineError(
    'table',
    `Table ${name(namespace, table)} does not exist. If the table name contains capitals or special characters you must quote it.`,
  )
}
