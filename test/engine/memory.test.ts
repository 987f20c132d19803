// Memory the engine must not hold: a large transaction on a table no shape reads (it is dropped as it
// arrives, not buffered whole), the definitions of rotated and swept shapes, and a log swept while its
// snapshot still runs (which would start the snapshot again, forever when it takes longer than the
// idle timeout).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import v8 from 'node:v8'
import vm from 'node:vm'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { shapeOf, startEngine } from '../support/engine.js'
import { waitFor } from '../support/until.js'
import type { EmbeddedEngine } from '../../src/engine/index.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

let db: TestDatabase
let engine: EmbeddedEngine
beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql(`CREATE TABLE etl (id int PRIMARY KEY, payload text NOT NULL)`)
  await db.sql(`CREATE TABLE slow (id int PRIMARY KEY, payload text NOT NULL)`)
  await db.sql(`CREATE TABLE small (id int PRIMARY KEY)`)
  engine = await startEngine(db.url, { liveTimeoutMs: 100, idleTimeoutMs: 50 })
})
afterAll(async () => {
  await engine?.close()
  await db?.drop()
})

describe('memory', () => {
  it('does not buffer a large transaction on a table no shape reads', { timeout: 60_000 }, async () => {
    // A shape once read the table, so it is in the publication, but none reads it now.
    await engine.fetch(shapeOf('etl'), { offset: '-1' })
    engine.rotate({ table: 'etl' })
    expect(engine.stats().shapes).toBe(0)
    gc()
    const before = process.memoryUsage().heapUsed
    let peak = before
    // Live heap only (after a full collection), sampled while the transaction streams in.
    const sampler = setInterval(() => {
      gc()
      peak = Math.max(peak, process.memoryUsage().heapUsed)
    }, 50)
    try {
      await db.sql(`INSERT INTO etl SELECT g, repeat('x', 200) || g FROM generate_series(1, 200000) g`)
      await engine.flush()
    } finally {
      clearInterval(sampler)
    }
    const growthMb = (peak - before) / 1024 / 1024
    console.log(`[memory] live heap growth while a 200,000-row transaction on an unsynced table streamed in: ${growthMb.toFixed(1)} MB`)
    // Buffered whole it holds ~200,000 rows of 200+ characters (about 95 MB on Node 20).
    expect(growthMb).toBeLessThan(25)
  })

  it('forgets the definitions of rotated and swept shapes', async () => {
    const steady = await startEngine(db.url, { liveTimeoutMs: 100 }) // not swept while the test runs
    try {
      for (let i = 0; i < 5; i++) await steady.fetch(shapeOf('small', { where: `id > ${i}` }), { offset: 'now' })
      expect(steady.stats().definitions).toBe(5)
      steady.rotate({ table: 'small' })
      await waitFor(() => steady.stats().definitions === 0, 'rotated definitions forgotten', 5000)
    } finally {
      await steady.close()
    }
    await engine.fetch(shapeOf('small', { where: 'id > 7' }), { offset: 'now' })
    await waitFor(() => engine.stats().shapes === 0 && engine.stats().definitions === 0, 'swept definitions forgotten', 5000)
  })

  it('does not sweep a shape whose snapshot is still running', { timeout: 60_000 }, async () => {
    // A snapshot of this many rows takes far longer than the 50 ms idle timeout (and sweep interval).
    await db.sql(`INSERT INTO slow SELECT g, repeat('y', 100) FROM generate_series(1, 100000) g`)
    const fetching = engine.fetch(shapeOf('slow', { where: 'id > 1000' }), { offset: '-1' })
    await waitFor(async () => (await db.sql(`SELECT 1 FROM pg_stat_activity WHERE query LIKE 'FETCH % FROM trpc_sync_snapshot'`)).length > 0,
      'the snapshot reading rows', 10_000)
    await new Promise((r) => setTimeout(r, 300)) // several sweeps
    expect(engine.stats().shapes).toBe(1)
    const result = await fetching // swept, the snapshot would start again, and again
    expect(result.status).toBe('ok')
  })
})
