// Errors with a defined outcome: a transaction the engine fails to route rotates the shapes of its tables
// (readers refetch, the stream goes on, nothing crashes), and a where clause that raises for a row
// refuses the shape, whether the row is in the snapshot or arrives by replication.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { LiveReader, shapeOf, startEngine } from '../support/engine.js'
import { errorResponse } from '../../src/http/response.js'
import type { EmbeddedEngine } from '../../src/engine/index.js'

let db: TestDatabase
let engine: EmbeddedEngine
const logs: string[] = []
beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql(`CREATE TABLE ratios (id int PRIMARY KEY, n int NOT NULL)`)
  await db.sql(`CREATE TABLE other (id int PRIMARY KEY)`)
  engine = await startEngine(db.url, { liveTimeoutMs: 100, log: (m) => logs.push(m) })
})
afterAll(async () => {
  await engine?.close()
  await db?.drop()
})

const keys = (reader: LiveReader) => [...reader.state.rows.values()].map((r) => Number(r.id)).sort((a, b) => a - b)

describe('errors', () => {
  it('rotates the shapes of a transaction that fails to apply; readers refetch and the stream goes on', async () => {
    const readers = [new LiveReader(engine, shapeOf('other')), new LiveReader(engine, shapeOf('other', { where: 'id > 1' }))]
    await db.sql(`INSERT INTO other VALUES (1), (2)`)
    let lsn = await engine.flush()
    for (const reader of readers) await reader.reached(lsn)
    // A fault inside the apply path, once (the engine code between a decoded transaction and the log).
    const log = await engine.shapeLog(shapeOf('other'))
    const append = log.append.bind(log)
    log.append = () => {
      log.append = append
      throw new Error('injected apply failure')
    }
    await db.sql(`INSERT INTO other VALUES (3), (4)`)
    lsn = await engine.flush()
    for (const reader of readers) await reader.reached(lsn)
    expect(keys(readers[0]!)).toEqual([1, 2, 3, 4])
    expect(keys(readers[1]!)).toEqual([2, 3, 4])
    for (const reader of readers) {
      expect(reader.items.some((i) => (i.message.headers as { control?: string }).control === 'must-refetch')).toBe(true)
    }
    expect(logs.some((m) => m.includes('injected apply failure') && m.includes('public.other'))).toBe(true)
    await db.sql(`INSERT INTO other VALUES (5)`)
    lsn = await engine.flush()
    for (const reader of readers) await reader.reached(lsn)
    expect(keys(readers[0]!)).toEqual([1, 2, 3, 4, 5])
    await Promise.all(readers.map((r) => r.stop()))
  })

  it('refuses a shape whose where clause raises for a row, from the snapshot and from replication alike', async () => {
    const def = shapeOf('ratios', { where: '10 / n > 1' })
    await db.sql(`INSERT INTO ratios VALUES (1, 5), (2, 20), (3, 0)`)
    // The snapshot: Postgres's query fails, so the shape is refused with a 400 naming the error.
    const refused = await engine.fetch(def, { offset: '-1' }).then(() => undefined, (e: unknown) => e)
    expect(refused).toMatchObject({ field: 'where', message: expect.stringContaining('division by zero') })
    const { result } = errorResponse(refused)
    expect(result.status).toBe(400)
    expect(JSON.parse(String(result.body))).toEqual({ message: 'Invalid request', errors: { where: [expect.stringContaining('division by zero')] }, requestId: expect.any(String) })

    // Without the row the shape is served; the row arriving by replication rotates it, and its
    // readers' refetch is refused the same way while the row exists.
    await db.sql(`DELETE FROM ratios WHERE id = 3`)
    const first = await engine.fetch(def, { offset: '-1' })
    if (first.status !== 'ok') throw new Error('expected rows')
    expect(first.messages.filter((m) => 'key' in m)).toHaveLength(1)
    const live = await engine.fetch(def, { offset: first.offset, handle: first.handle })
    if (live.status !== 'ok') throw new Error('expected up-to-date')
    await db.sql(`INSERT INTO ratios VALUES (4, 0)`)
    await engine.flush()
    // The reader's next request (its handle is gone) and a fresh one are refused alike.
    const refusal = { field: 'where', message: expect.stringContaining('division by zero') }
    await expect(engine.fetch(def, { offset: live.offset, handle: live.handle })).rejects.toMatchObject(refusal)
    await expect(engine.fetch(def, { offset: '-1' })).rejects.toMatchObject(refusal)
    expect(logs.some((m) => m.includes('division by zero') && m.includes('rotating'))).toBe(true)

    await db.sql(`DELETE FROM ratios WHERE id = 4`)
    const again = await engine.fetch(def, { offset: '-1' })
    expect(again.status === 'ok' && again.messages.filter((m) => 'key' in m).map((m) => (m as { key: string }).key)).toEqual(['"public"."ratios"/"1"'])
  })
})
