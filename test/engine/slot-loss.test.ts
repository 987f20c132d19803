// The replication slot lost under a running engine (an operator drops it; max_slot_wal_keep_size
// invalidates it — the same recovery, recognized from pg_replication_slots): the engine recreates the
// slot and rotates every shape, readers refetch and equal the query, and flush() resolves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { LiveReader, shapeOf, startEngine } from '../support/engine.js'
import type { EmbeddedEngine } from '../../src/engine/index.js'
import type { ShapeDefinition } from '../../src/shape/definition.js'
import { startPostgres } from '../../src/testing/postgres.js'
import { waitFor } from '../support/until.js'

let db: TestDatabase
let engine: EmbeddedEngine
const slotName = `test_${randomBytes(5).toString('hex')}`
const logs: string[] = []
beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql(`CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, n int NOT NULL DEFAULT 0)`)
  engine = await startEngine(db.url, { slotName, liveTimeoutMs: 100, log: (m) => logs.push(m) })
})
afterAll(async () => {
  await engine?.close()
  await db?.drop()
})

async function workload(from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    await db.sql(`INSERT INTO items VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET n = items.n + 1, grp = EXCLUDED.grp`, [i % 30, i % 3])
    if (i % 7 === 0) await db.sql(`DELETE FROM items WHERE id = $1`, [(i * 3) % 30])
  }
}

/** Terminates the walsender and drops the slot; the engine may take the slot back in between: retry. */
async function dropSlot(): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await db.sql(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, [slotName])
      await db.sql(`SELECT pg_drop_replication_slot($1)`, [slotName])
      return
    } catch (error) {
      if (attempt > 200 || (error as { code?: string }).code !== '55006') throw error
      await new Promise((r) => setTimeout(r, 10))
    }
  }
}

async function expectEqualsQuery(reader: LiveReader, def: ShapeDefinition, lsn: bigint): Promise<void> {
  await reader.reached(lsn)
  const { rows } = await db.pool.query(
    `SELECT id::text, grp::text, n::text FROM items ${def.where ? `WHERE ${def.where}` : ''} ORDER BY items.id`, def.params,
  )
  expect([...reader.state.rows.values()].sort((a, b) => Number(a.id) - Number(b.id))).toEqual(rows)
}

describe('replication slot lost', () => {
  it('recreates the slot and rotates every shape: readers refetch and equal the query, flush() resolves', { timeout: 30_000 }, async () => {
    const defs = [shapeOf('items'), shapeOf('items', { where: '"grp" = $1', params: ['1'], replica: 'full' })]
    const readers = defs.map((def) => ({ def, reader: new LiveReader(engine, def) }))
    await workload(0, 60)
    let lsn = await engine.flush()
    for (const { reader, def } of readers) await expectEqualsQuery(reader, def, lsn)

    // A writer keeps committing while the slot is dropped: what it commits meanwhile is never decoded.
    const writing = workload(60, 200)
    await dropSlot()
    await workload(200, 230)
    await writing
    lsn = await engine.flush()
    for (const { reader, def } of readers) {
      await expectEqualsQuery(reader, def, lsn)
      expect(reader.items.some((i) => (i.message.headers as { control?: string }).control === 'must-refetch')).toBe(true)
    }
    expect(logs.some((m) => m.includes(`replication slot "${slotName}" was dropped`))).toBe(true)
    expect(await db.sql(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [slotName])).toHaveLength(1)

    // The stream goes on from the new slot.
    await workload(230, 260)
    lsn = await engine.flush()
    for (const { reader, def } of readers) await expectEqualsQuery(reader, def, lsn)
    await Promise.all(readers.map(({ reader }) => reader.stop()))
  })
})

// Invalidation needs a server setting (max_slot_wal_keep_size), so it runs on an embedded Postgres of its own.
describe('replication slot invalidated by max_slot_wal_keep_size', () => {
  it('recognizes the invalidated slot, recreates it and rotates every shape', { timeout: 120_000 }, async () => {
    const server = await startPostgres({ databaseUrl: '', settings: { max_slot_wal_keep_size: '1MB', min_wal_size: '32MB', max_wal_size: '64MB' } })
    const pool = new (await import('pg')).default.Pool({ connectionString: server.url, max: 3 })
    pool.on('error', () => {})
    const slot = `test_${randomBytes(5).toString('hex')}`
    const messages: string[] = []
    let own: EmbeddedEngine | undefined
    try {
      await pool.query(`CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, n int NOT NULL DEFAULT 0)`)
      await pool.query(`CREATE TABLE filler (x text)`)
      own = await startEngine(server.url, { slotName: slot, liveTimeoutMs: 100, log: (m) => messages.push(m) })
      const reader = new LiveReader(own, shapeOf('items'))
      await pool.query(`INSERT INTO items SELECT g, g % 3 FROM generate_series(1, 10) g`)
      await reader.reached(await own.flush())
      // An open transaction that wrote holds the slot's restart_lsn back while WAL piles up past the limit.
      const holder = await pool.connect()
      await holder.query(`BEGIN`)
      await holder.query(`INSERT INTO items VALUES (100, 1)`)
      await waitFor(async () => {
        await pool.query(`INSERT INTO filler SELECT repeat('z', 1000) FROM generate_series(1, 20000)`)
        await pool.query(`CHECKPOINT`)
        return messages.some((m) => m.includes(`replication slot "${slot}" was invalidated`))
      }, 'the slot invalidated', 100_000, 0)
      await holder.query(`COMMIT`)
      holder.release()
      await pool.query(`UPDATE items SET n = n + 1 WHERE id < 5`)
      await reader.reached(await own.flush())
      const { rows } = await pool.query(`SELECT id::text, grp::text, n::text FROM items ORDER BY items.id`)
      expect([...reader.state.rows.values()].sort((a, b) => Number(a.id) - Number(b.id))).toEqual(rows)
      expect(reader.items.some((i) => (i.message.headers as { control?: string }).control === 'must-refetch')).toBe(true)
      await reader.stop()
    } finally {
      await own?.close()
      await pool.end()
      await server.stop()
    }
  })
})

// A slot that cannot be created again (max_replication_slots reached) also needs a server of its own.
describe('replication slot lost and not recreatable', () => {
  it('fails flush() clearly and tells no reader up-to-date until the slot exists again', { timeout: 120_000 }, async () => {
    const server = await startPostgres({ databaseUrl: '', settings: { max_replication_slots: 2 } })
    const pool = new (await import('pg')).default.Pool({ connectionString: server.url, max: 3 })
    pool.on('error', () => {})
    const slot = `test_${randomBytes(5).toString('hex')}`
    let own: EmbeddedEngine | undefined
    try {
      await pool.query(`CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, n int NOT NULL DEFAULT 0)`)
      own = await startEngine(server.url, { slotName: slot, liveTimeoutMs: 100 })
      const reader = new LiveReader(own, shapeOf('items'))
      await pool.query(`INSERT INTO items SELECT g, g % 3 FROM generate_series(1, 10) g`)
      await reader.reached(await own.flush())
      await pool.query(`SELECT pg_create_physical_replication_slot('other_1')`)
      // Drop the engine's slot and take its place at once: the engine cannot create it again.
      for (let attempt = 0; ; attempt++) {
        try {
          await pool.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, [slot])
          await pool.query(`SELECT pg_drop_replication_slot($1), pg_create_physical_replication_slot('other_2')`, [slot])
          break
        } catch (error) {
          if (attempt > 200 || (error as { code?: string }).code !== '55006') throw error
          await new Promise((r) => setTimeout(r, 10))
        }
      }
      await pool.query(`UPDATE items SET n = n + 1 WHERE id < 5`)
      await expect(own.flush()).rejects.toMatchObject({ message: expect.stringContaining('cannot be created again') })
      // Every shape is rotated, and the reader's next answer waits for the slot: nothing, up-to-date least of all.
      expect(own.stats().shapes).toBe(0)
      const seen = reader.items.length
      await new Promise((r) => setTimeout(r, 500))
      expect(reader.items.length).toBe(seen)

      // Once there is room, the engine's next retry creates the slot (flush fails until then).
      await pool.query(`SELECT pg_drop_replication_slot('other_2')`)
      let lsn = 0n
      await waitFor(async () => own!.flush().then((at) => { lsn = at; return true }, () => false), 'the slot created again', 30_000, 100)
      await reader.reached(lsn)
      const { rows } = await pool.query(`SELECT id::text, grp::text, n::text FROM items ORDER BY items.id`)
      expect([...reader.state.rows.values()].sort((a, b) => Number(a.id) - Number(b.id))).toEqual(rows)
      await reader.stop()
    } finally {
      await own?.close()
      await pool.end()
      await server.stop()
    }
  })
})
