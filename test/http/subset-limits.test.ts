// Subset snapshots (`subset__*`) under the snapshot limits: a subset query takes a turn of the snapshot
// gate like a new shape's snapshot (concurrentSnapshots at once, queuedSnapshots waiting, then 429), and
// its result, held in memory until sent, is bounded by subsetBytes (400 naming it). Over the Electric
// protocol, against a real engine.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EmbeddedEngine } from '../../src/engine/index.js'
import type { Sync } from '../../src/sync/sync.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { waitFor } from '../support/until.js'
import { mount, testSync, type Mounted } from './support.js'

let db: TestDatabase
let sync: Sync
let server: Mounted
const SUBSET_BYTES = 50_000

beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql(`CREATE TABLE items (id int PRIMARY KEY, body text NOT NULL)`)
  // 2,000 rows of about 100 bytes: 200 KB of values.
  await db.sql(`INSERT INTO items SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g`)
  sync = testSync(db, {}, { limits: { concurrentSnapshots: 1, queuedSnapshots: 1, subsetBytes: SUBSET_BYTES } })
  const items = sync.handler(sync.shape({ table: 'items' }))
  server = await mount(items)
})
afterAll(async () => {
  await server?.close()
  await sync?.close()
  await db?.drop()
})

const subset = (query: string) =>
  fetch(`${server.url}/items?offset=-1&subset__order_by=id&${query}`)

describe('subset limits', () => {
  it('refuses a subset whose rows pass subsetBytes with 400 naming it, and serves a smaller page', async () => {
    const refused = await subset('subset__where=' + encodeURIComponent('id > 10'))
    expect(refused.status).toBe(400)
    const body = await refused.json() as { message: string; errors: Record<string, string[]> }
    expect(body.message).toBe('Invalid request')
    expect(body.errors.subsetBytes![0]).toBe(`The subset is too large to send at once; ask for fewer rows (subset__limit, a narrower subset__where) (limit subsetBytes: ${SUBSET_BYTES})`)

    const page = await subset('subset__limit=100')
    expect(page.status).toBe(200)
    expect(((await page.json()) as { data: unknown[] }).data).toHaveLength(100)
  })

  it('runs subsets on the snapshot gate: past concurrentSnapshots they wait, past queuedSnapshots 429', async () => {
    const warm = await fetch(`${server.url}/items?offset=-1`) // the shape exists: a subset needs no snapshot of it
    expect(warm.status).toBe(200)
    await warm.text()
    const engine = (await sync.source()) as EmbeddedEngine

    // A lock the subset query waits on, so the one turn stays taken.
    const locker = new pg.Client({ connectionString: db.url })
    await locker.connect()
    await locker.query('BEGIN')
    await locker.query('LOCK TABLE items IN ACCESS EXCLUSIVE MODE')
    try {
      const running = subset('subset__limit=5')
      await waitFor(async () => {
        const [{ n }] = await db.sql(`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%trpc_sync_subset%'`)
        return n === 1
      }, 'the first subset waits on the lock', 10_000)
      const queued = subset('subset__limit=6')
      await waitFor(() => engine.stats().queuedSnapshots === 1, 'the second subset queued', 10_000)

      // (A new shape would wait on the lock before the gate: reading the publication opens its tables.)
      for (const refused of [await subset('subset__limit=7'), await subset('subset__limit=8')]) {
        expect(refused.status).toBe(429)
        expect(refused.headers.get('retry-after')).toBe('5')
        const body = await refused.json() as { limit: string; errors: Record<string, string[]> }
        expect(body.limit).toBe('queuedSnapshots')
        expect(body.errors.queuedSnapshots![0]).toContain('limit queuedSnapshots: 1')
      }

      await locker.query('ROLLBACK')
      for (const [response, rows] of [[await running, 5], [await queued, 6]] as const) {
        expect(response.status).toBe(200)
        expect(((await response.json()) as { data: unknown[] }).data).toHaveLength(rows)
      }
    } finally {
      await locker.end()
    }
  })
})
