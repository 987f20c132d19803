// Whether the table a table's shapes were built on is still the table Postgres has under that name.
// Invariant: every log on a route was built from the route's TableInfo, and that TableInfo is kept only
// while Postgres agrees with it: the same OID under the name (not dropped, renamed or recreated), the
// same columns in every detail read, the same enum labels. Any disagreement rotates the table's shapes
// (readers get must-refetch and refetch against the catalog as it is now). The engine looks in four
// places: Relation messages, each routed row (its relation's OID; an enum label the TableInfo does not
// know, i.e. `ALTER TYPE ... ADD VALUE`), a fresh catalog read for every new shape (`FreshTables`), and
// a periodic check (`CatalogWatch`) for tables dropped or altered while nothing is written to them.
// Also here: which columns the walsender sends (generated ones), and the missing-table grace period.
import type pg from 'pg'
import { parseArrayText } from '../where/codec.js'
import { loadTable, quoteIdent, type ColumnInfo, type TableInfo } from './catalog.js'
import { EngineError } from './errors.js'
import type { RelationInfo, TextRow } from './transaction.js'

/**
 * Whether two catalog reads describe the same table: the same OID and the same columns in every detail
 * the engine read (type, key position, enum labels, generation, collation, modifiers, nullability).
 */
export function sameTable(a: TableInfo, b: TableInfo): boolean {
  if (a.oid !== b.oid || a.columns.length !== b.columns.length) return false
  return a.columns.every((c, i) => JSON.stringify(c) === JSON.stringify(b.columns[i]))
}

/**
 * Whether the walsender sends a column's values: never a virtual generated column (Postgres 18), a
 * stored one only when the publication has `publish_generated_columns = stored` (Postgres 18).
 */
export function isSent(column: ColumnInfo, publishesStored: boolean): boolean {
  return column.generated === undefined || (column.generated === 'stored' && publishesStored)
}

/** Whether a Relation message describes the table the shapes were built on (ignoring columns never sent). */
export function relationMatches(table: TableInfo, relation: RelationInfo, publishesStored: boolean): boolean {
  if (relation.oid !== table.oid) return false
  const sent = table.columns.filter((c) => isSent(c, publishesStored))
  return sent.length === relation.columns.length &&
    sent.every((c, i) => c.name === relation.columns[i]!.name && c.typeOid === relation.columns[i]!.typeOid)
}

/**
 * Refuses a shape that needs a column replication does not carry: its rows would read NULL there. Columns
 * are the selected ones, the key and the ones the where clause reads.
 */
export function refuseUnsentColumns(
  table: TableInfo, used: { selected: Iterable<string>; where: Iterable<string> }, publishesStored: boolean, pgMajor: number,
): void {
  for (const [field, names] of [['columns', used.selected], ['where', used.where]] as const) {
    for (const name of names) {
      const column = table.byName.get(name)
      if (!column || isSent(column, publishesStored)) continue
      const fix = column.generated === 'virtual'
        ? 'make it a STORED generated column (Postgres 18 sends those)'
        : `upgrade to Postgres 18, which sends stored generated columns (this server is Postgres ${pgMajor})`
      throw new EngineError(field,
        `Column ${quoteIdent(name)} is a generated column, whose values logical replication does not carry; ` +
        `${field === 'where' ? 'filter on' : 'select'} the other columns (columns=...), or ${fix}`)
    }
  }
}

interface EnumColumn {
  name: string
  labels: Set<string>
  array: boolean
}

function enumColumns(table: TableInfo): EnumColumn[] {
  return table.columns.filter((c) => c.isEnum && c.enumLabels)
    .map((c) => ({ name: c.name, labels: new Set(c.enumLabels), array: c.dims > 0 }))
}

/**
 * For a table with enum columns: whether a replicated row carries a label the table's catalog read
 * does not know (`ALTER TYPE ... ADD VALUE` since). Undefined for a table without enum columns.
 */
export function unknownLabelCheck(table: TableInfo): ((row: TextRow | undefined) => boolean) | undefined {
  const columns = enumColumns(table)
  return columns.length === 0 ? undefined : (row) => row !== undefined && hasUnknownLabel(columns, row)
}

function hasUnknownLabel(columns: EnumColumn[], row: TextRow): boolean {
  for (const column of columns) {
    const text = row[column.name]
    if (text == null) continue
    if (!column.array) {
      if (!column.labels.has(text)) return true
      continue
    }
    for (const item of parseArrayText(text).items) if (item !== null && !column.labels.has(item)) return true
  }
  return false
}

/** On Postgres 18, has the publication send stored generated columns; reports whether it does. */
export async function publishGeneratedColumns(pool: pg.Pool, publication: string, log: (m: string) => void): Promise<{ publishesStored: boolean; pgMajor: number }> {
  const { rows } = await pool.query<{ num: string }>(`SELECT current_setting('server_version_num') AS num`)
  const pgMajor = Math.floor(Number(rows[0]!.num) / 10000)
  if (pgMajor < 18) return { publishesStored: false, pgMajor }
  try {
    await pool.query(`ALTER PUBLICATION ${quoteIdent(publication)} SET (publish_generated_columns = stored)`)
    return { publishesStored: true, pgMajor }
  } catch (error) {
    log(`publication ${publication} does not publish generated columns: ${(error as Error).message}`)
    return { publishesStored: false, pgMajor }
  }
}

/**
 * One fingerprint per table of what its shapes depend on in the catalog (OID, columns, key, enum labels,
 * collations), all tables in one query; NULL for a table that is gone.
 */
const FINGERPRINTS = `
  SELECT r.i::int AS i, c.oid::int AS oid, md5(concat_ws('|',
      (SELECT string_agg(concat_ws(':', a.attnum, a.attname, a.atttypid, a.atttypmod, a.attnotnull, a.attgenerated, a.attcollation), ','
                         ORDER BY a.attnum)
         FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
      (SELECT i.indkey::text FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
      (SELECT string_agg(concat_ws(':', e.enumtypid, e.enumlabel, e.enumsortorder), ',' ORDER BY e.enumtypid, e.enumsortorder)
         FROM pg_enum e WHERE e.enumtypid IN (
           SELECT CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)))) AS fingerprint
    FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(ns, name, i)
    LEFT JOIN pg_namespace n ON n.nspname = r.ns
    LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = r.name AND c.relkind IN ('r', 'p')`

/**
 * Re-reads the catalog of the routed tables now and then, and reports the tables whose catalog no
 * longer matches their TableInfo (`current` undefined: the table is gone). Catches what no Relation
 * message announces: a table dropped (and perhaps recreated) or altered while nothing is written to it.
 * Each pass is one query of fingerprints; a table is read in full only when first seen or when its
 * fingerprint changed, and `sameTable` decides.
 */
export class CatalogWatch {
  private timer: NodeJS.Timeout | undefined
  private running = false
  private readonly fingerprints = new WeakMap<TableInfo, string>()

  constructor(
    private readonly pool: pg.Pool,
    private readonly tables: () => TableInfo[],
    private readonly onStale: (known: TableInfo, current: TableInfo | undefined) => void,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.check().catch(() => {}), intervalMs).unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** One pass over the routed tables; a pass still running makes this a no-op. Database errors: next pass. */
  async check(): Promise<void> {
    const tables = this.tables()
    if (this.running || tables.length === 0) return
    this.running = true
    try {
      const { rows } = await this.pool.query<{ i: number; oid: number | null; fingerprint: string }>(
        FINGERPRINTS, [tables.map((t) => t.namespace), tables.map((t) => t.table)])
      for (const row of rows) {
        const known = tables[row.i - 1]!
        if (row.oid === null) {
          this.onStale(known, undefined)
          continue
        }
        // The fingerprint leaves out the OID: a table dropped and recreated alike between two passes has the same one.
        if (row.oid === known.oid && this.fingerprints.get(known) === row.fingerprint) continue
        let current: TableInfo | undefined
        try {
          current = await loadTable(this.pool, known.namespace, known.table)
        } catch (error) {
          if (!(error instanceof EngineError)) throw error
        }
        if (current && sameTable(known, current)) this.fingerprints.set(known, row.fingerprint)
        else this.onStale(known, current)
      }
    } finally {
      this.running = false
    }
  }
}

/** The table was dropped, recreated or altered between the catalog read and a query on it. */
export class TableChangedError extends Error {
  override readonly name = 'TableChangedError'
  constructor(table: TableInfo) {
    super(`table ${quoteIdent(table.namespace)}.${quoteIdent(table.table)} changed while a shape of it was created`)
  }
}

/** Postgres errors that mean the table under a name is not (or no longer) the one the catalog read saw. */
export function isTableChange(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string }
  return code === '42P01' || code === '42703' || (code === 'XX000' && /could not open relation/.test(message ?? ''))
}

/**
 * Tables that went missing while they had shapes, for a grace period (Electric's schema reconcile
 * period): requests for them get must-refetch with a new handle instead of a 400, as Electric answers
 * until it has noticed the drop, so clients of a table dropped and recreated ride through the gap.
 */
export class VanishedTables {
  private readonly since = new Map<string, number>()
  constructor(private readonly graceMs = 60_000) {}

  mark(name: string): void {
    if (!this.has(name)) this.since.set(name, Date.now())
  }

  has(name: string): boolean {
    const since = this.since.get(name)
    if (since === undefined) return false
    if (Date.now() - since < this.graceMs) return true
    this.since.delete(name)
    return false
  }
}

/**
 * Fresh catalog reads for new shapes, coalesced per table: a burst of new shapes shares reads, but a
 * read is only shared by requests that arrived before it started, so none sees a catalog older than
 * itself (an `ADD VALUE` committed before a request is always in the read that request gets).
 */
export class FreshTables {
  private readonly states = new Map<string, { running?: Promise<TableInfo>; queued?: Promise<TableInfo> }>()
  constructor(private readonly pool: pg.Pool) {}

  read(namespace: string, table: string): Promise<TableInfo> {
    const key = `${namespace}.${table}`
    let state = this.states.get(key)
    if (!state) this.states.set(key, (state = {}))
    if (state.queued) return state.queued
    if (!state.running) return this.start(key, state, namespace, table)
    const s = state
    s.queued = state.running.catch(() => {}).then(() => {
      s.queued = undefined
      return this.start(key, s, namespace, table)
    })
    return s.queued
  }

  private start(key: string, state: { running?: Promise<TableInfo>; queued?: Promise<TableInfo> }, namespace: string, table: string): Promise<TableInfo> {
    const running = loadTable(this.pool, namespace, table)
    state.running = running
    const settle = () => {
      if (state.running !== running) return
      state.running = undefined
      if (!state.queued) this.states.delete(key)
    }
    running.then(settle, settle)
    return running
  }
}
