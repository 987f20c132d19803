// Bounded memory: a shape that retains too many changes rotates (readers refetch and converge), and
// shapes nobody reads are dropped after the idle time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { LiveReader, shapeOf, startEngine } from '../support/engine.js'
import type { EmbeddedEngine } from '../../src/engine/index.js'

let db: TestDatabase
let engine: EmbeddedEngine
beforeAll(async () => {
  db = await createTestDatabase()
  engine = await startEngine(db.url, { liveTimeoutMs: 100, maxLogEntries: 3, idleTimeoutMs: 300 })
})
afterAll(async () => {
  await engine?.close()
  await db?.drop()
})

describe('retention', () => {
  it('rotates a shape past its retained history; its readers refetch and converge', async () => {
    const reader = new LiveReader(engine, shapeOf('projects'))
    await reader.nextUpToDate()
    for (let i = 0; i < 6; i++) await db.sql(`INSERT INTO projects (id, name, owner_id) VALUES (gen_random_uuid(), $1, 'u')`, [`p${i}`])
    await reader.reached(await engine.flush())
    expect(reader.items.some((i) => (i.message.headers as { control?: string }).control === 'must-refetch')).toBe(true)
    expect([...reader.state.rows.values()].map((r) => r.name).sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5'])
    await reader.stop()
  })

  it('drops shapes with no readers after the idle time', async () => {
    await engine.fetch(shapeOf('issues'), { offset: '-1' })
    expect(engine.stats().shapes).toBeGreaterThan(0)
    for (let i = 0; i < 100 && engine.stats().shapes > 0; i++) await new Promise((r) => setTimeout(r, 50))
    expect(engine.stats().shapes).toBe(0)
  })
})
