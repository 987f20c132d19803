// The initial rows of a shape: one REPEATABLE READ READ ONLY transaction that records
// pg_current_snapshot() (to know which replicated transactions the rows already contain) and reads
// the rows as Postgres text, in batches through a cursor.
import type pg from 'pg'
import type { SnapshotBounds } from '../source/messages.js'
import { qualified, quoteIdent, type TableInfo } from './catalog.js'
import type { TextRow } from './transaction.js'

/** Display settings Electric forces on its sessions, so values have one text form. */
export const displaySettings: Record<string, string> = {
  DateStyle: 'ISO, DMY',
  TimeZone: 'UTC',
  extra_float_digits: '1',
  bytea_output: 'hex',
  IntervalStyle: 'iso_8601',
}

export interface SnapshotQuery {
  table: TableInfo
  /** Columns to read: every column the where clause or the key needs, plus the selected ones. */
  columns: string[]
  where?: string
  params?: string[]
  /** `log=changes_only`: bounds only, no rows. */
  boundsOnly?: boolean
}

const batchRows = 5000

/**
 * Runs the snapshot; `consume` receives the bounds first and then the rows, batch by batch, while the
 * transaction is open.
 */
export async function takeSnapshot(
  pool: pg.Pool, query: SnapshotQuery,
  consume: (bounds: SnapshotBounds, rows: AsyncIterable<TextRow[]>) => Promise<void>,
): Promise<void> {
  const client = await pool.connect()
  let failed = false
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    for (const [name, value] of Object.entries(displaySettings)) {
      await client.query(`SELECT set_config($1, $2, true)`, [name, value])
    }
    const { rows } = await client.query<{ snapshot: string }>(`SELECT pg_current_snapshot()::text AS snapshot`)
    const [xmin, xmax, xip] = rows[0]!.snapshot.split(':') as [string, string, string]
    const bounds: SnapshotBounds = { xmin, xmax, xip_list: xip ? xip.split(',') : [] }
    if (!query.boundsOnly) {
      const select = query.columns.map((c) => {
        const type = query.table.byName.get(c)!.type
        // bpchar::text drops the padding; concat() keeps it, as Electric does.
        return type === 'bpchar' && query.table.byName.get(c)!.dims === 0 ? `concat(${quoteIdent(c)})` : `${quoteIdent(c)}::text`
      })
      await client.query(
        `DECLARE trpc_sync_snapshot NO SCROLL CURSOR FOR SELECT ${select.join(', ')} FROM ${qualified(query.table.namespace, query.table.table)}` +
          (query.where ? ` WHERE ${query.where}` : ''),
        query.params ?? [],
      )
    }
    const columns = query.columns
    async function* batches(): AsyncIterable<TextRow[]> {
      if (query.boundsOnly) return
      for (;;) {
        const result = await client.query<(string | null)[]>({ text: `FETCH ${batchRows} FROM trpc_sync_snapshot`, rowMode: 'array' })
        if (result.rows.length === 0) return
        yield result.rows.map((values) => {
          const row: TextRow = {}
          for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i] ?? null
          return row
        })
      }
    }
    await consume(bounds, batches())
    await client.query('COMMIT')
  } catch (error) {
    failed = true
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release(failed)
  }
}
