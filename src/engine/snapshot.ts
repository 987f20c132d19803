// The initial rows of a shape: one REPEATABLE READ READ ONLY transaction that records
// pg_current_snapshot() (to know which replicated transactions the rows already contain) and reads
// each row as the JSON text of its insert message (built by Postgres, ./snapshot-json.ts), in batches
// through a cursor.
import type pg from 'pg'
import type { SnapshotBounds } from '../source/messages.js'
import { qualified, type TableInfo } from './catalog.js'
import { snapshotMessageSql } from './snapshot-json.js'

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
  /** The selected columns, in table order (the message's value; its key is the table's primary key). */
  columns: string[]
  where?: string
  params?: string[]
  /** `log=changes_only`: bounds only, no rows. */
  boundsOnly?: boolean
}

const batchRows = 5000

/**
 * Runs the snapshot; `consume` receives the bounds first and then the rows' message texts, batch by
 * batch, while the transaction is open.
 */
export async function takeSnapshot(
  pool: pg.Pool, query: SnapshotQuery,
  consume: (bounds: SnapshotBounds, rows: AsyncIterable<string[]>) => Promise<void>,
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
      await client.query(
        `DECLARE trpc_sync_snapshot NO SCROLL CURSOR FOR SELECT ${snapshotMessageSql(query.table, query.columns)} FROM ${qualified(query.table.namespace, query.table.table)}` +
          (query.where ? ` WHERE ${query.where}` : ''),
        query.params ?? [],
      )
    }
    const fetch = () => {
      const next = client.query<[string]>({ text: `FETCH ${batchRows} FROM trpc_sync_snapshot`, rowMode: 'array' })
      next.catch(() => {}) // awaited below, or abandoned when the consumer stops early (the transaction's end reports it)
      return next
    }
    async function* batches(): AsyncIterable<string[]> {
      if (query.boundsOnly) return
      // One FETCH ahead: Postgres builds the next batch while this one is taken.
      let next = fetch()
      for (;;) {
        const result = await next
        if (result.rows.length === 0) return
        if (result.rows.length === batchRows) next = fetch()
        yield result.rows.map((row) => row[0])
        if (result.rows.length < batchRows) return
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
