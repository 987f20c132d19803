// Faults: the walsender terminated and Postgres restarted in the middle of a workload. The engine
// reconnects by itself and every reader converges with nothing lost. Runs on a Postgres of its own,
// since restarting the shared one would disturb the other test files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { startPostgres, type PostgresServer } from '../../src/testing/postgres.js'
import { LiveReader, shapeOf, startEngine } from '../support/engine.js'
import type { EmbeddedEngine } from '../../src/engine/index.js'
import type { ShapeDefinition } from '../../src/shape/definition.js'

let server: PostgresServer
let pool: pg.Pool
let engine: EmbeddedEngine
beforeAll(async () => {
  server = await startPostgres({ databaseUrl: '' })
  pool = new pg.Pool({ connectionString: server.url, max: 4 })
  pool.on('error', () => {})
  await pool.query(`CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, n int NOT NULL DEFAULT 0)`)
  engine = await startEngine(server.url, { liveTimeoutMs: 100 })
})
afterAll(async () => {
  await engine?.close()
  await pool?.end()
  await server?.stop()
})

/** Writes until it succeeds: the database may be restarting. Returns once committed. */
async function write(sql: string, params: unknown[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await pool.query(sql, params)
      return
    } catch (error) {
      if (attempt > 200) throw error
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

async function workload(from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    await write(`INSERT INTO items VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET n = items.n + 1, grp = EXCLUDED.grp`, [i % 40, i % 3])
    if (i % 7 === 0) await write(`DELETE FROM items WHERE id = $1`, [(i * 3) % 40])
  }
}

async function converged(readers: { reader: LiveReader; def: ShapeDefinition }[]): Promise<void> {
  const lsn = await engine.flush()
  for (const { reader, def } of readers) {
    await reader.reached(lsn)
    const { rows } = await pool.query(
      `SELECT id::text, grp::text, n::text FROM items ${def.where ? `WHERE ${def.where}` : ''} ORDER BY items.id`, def.params,
    )
    const actual = [...reader.state.rows.values()].sort((a, b) => Number(a.id) - Number(b.id))
    expect(actual).toEqual(rows)
  }
}

function noDuplicates(reader: LiveReader): void {
  const offsets = reader.items
    .map((i) => i.message.headers as { lsn?: string; op_position?: number })
    .filter((h) => h.lsn !== undefined)
    .map((h) => `${h.lsn}_${h.op_position}`)
  expect(new Set(offsets).size).toBe(offsets.length)
}

describe('faults', () => {
  const defs = [shapeOf('items'), shapeOf('items', { where: '"grp" = $1', params: ['1'], replica: 'full' })]

  it('recovers when the walsender is terminated mid-workload', async () => {
    const readers = defs.map((def) => ({ def, reader: new LiveReader(engine, def) }))
    await workload(0, 150)
    await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_replication`)
    await workload(150, 300)
    await converged(readers)
    readers.forEach(({ reader }) => noDuplicates(reader))
    await Promise.all(readers.map(({ reader }) => reader.stop()))
  })

  it('recovers when Postgres restarts mid-workload', async () => {
    const readers = defs.map((def) => ({ def, reader: new LiveReader(engine, def) }))
    await workload(300, 450)
    const writing = workload(450, 600)
    await server.restart()
    await writing
    await workload(600, 700)
    await converged(readers)
    readers.forEach(({ reader }) => noDuplicates(reader))
    await Promise.all(readers.map(({ reader }) => reader.stop()))
  })
})
