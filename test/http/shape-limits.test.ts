// The server's limits over the Electric protocol: a new shape past `limits.shapes`, while every shape
// is being read, is answered 429 naming the limit (Electric's client retries it later); once a shape
// has no reader, the new one takes its place.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { waitFor } from '../support/until.js'
import type { Sync } from '../../src/sync/sync.js'
import type { Shape } from '../../src/sync/shape.js'
import type { EmbeddedEngine } from '../../src/engine/index.js'
import { mount, testSync, type Mounted } from './support.js'

let db: TestDatabase
let sync: Sync
let server: Mounted
let shapeA: Shape<unknown>
beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql(`CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL)`)
  await db.sql(`INSERT INTO items SELECT g, g % 2 FROM generate_series(1, 100) g`)
  sync = testSync(db, { liveTimeoutMs: 30_000 }, { limits: { shapes: 1 } })
  shapeA = sync.shape({ table: 'items', where: 'grp = 0' })
  const a = sync.handler(shapeA)
  const b = sync.handler(sync.shape({ table: 'items', where: 'grp = 1' }))
  server = await mount((req, res) => (req.url!.startsWith('/a') ? a : b)(req, res))
})
afterAll(async () => {
  await server?.close()
  await sync?.close()
  await db?.drop()
})

describe('HTTP limits', () => {
  it('answers a new shape past limits.shapes with 429 naming the limit while every shape is read', async () => {
    const first = await fetch(`${server.url}/a?offset=-1`)
    expect(first.status).toBe(200)
    await first.text()
    const handle = first.headers.get('electric-handle')!
    const caughtUp = await fetch(`${server.url}/a?offset=${first.headers.get('electric-offset')}&handle=${handle}`)
    const offset = caughtUp.headers.get('electric-offset')!
    await caughtUp.text()
    // A live request holds shape a.
    const hold = new AbortController()
    const live = fetch(`${server.url}/a?offset=${offset}&handle=${handle}&live=true`, { signal: hold.signal }).catch(() => undefined)
    const engine = (await sync.source()) as EmbeddedEngine
    const log = await engine.shapeLog(shapeA.definition)
    await waitFor(() => log.activeReaders > 0, 'the live request held', 10_000)

    const refused = await fetch(`${server.url}/b?offset=-1`)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('5')
    const body = await refused.json() as { limit: string; errors: Record<string, string[]> }
    expect(body.limit).toBe('shapes')
    expect(body.errors.shapes![0]).toContain('limit shapes: 1')

    hold.abort()
    await live
    await waitFor(async () => {
      const retry = await fetch(`${server.url}/b?offset=-1`)
      await retry.text()
      return retry.status === 200
    }, 'shape b once a has no reader', 10_000)
  })
})
