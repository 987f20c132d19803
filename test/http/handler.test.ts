// sync.handler against Electric's own client (ShapeStream / Shape) on a real node:http server, with
// changes written by plain SQL outside the app. Live cases run in long-poll and SSE mode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sync } from '../../src/sync/sync.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { ClientShape, mount, testSync, uuid, type Mounted } from './support.js'

let db: TestDatabase
let sync: Sync
let app: Mounted

type Todo = { id: string; title: string; is_completed: boolean; owner_id: string }

beforeAll(async () => {
  db = await createTestDatabase()
  sync = testSync(db, { chunkBytes: 2000 })
  const todos = sync.handler(sync.shape({ table: 'todos' }), { liveTimeoutMs: 2000, sseTimeoutMs: 3000 })
  const open = sync.handler(sync.shape(db.prisma.todo, { where: { completed: false } }), { liveTimeoutMs: 2000 })
  const full = sync.handler(sync.shape({ table: 'todos', replica: 'full' }), { liveTimeoutMs: 2000 })
  app = await mount((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname
    if (path === '/todos') return todos(req, res)
    if (path === '/open') return open(req, res)
    if (path === '/full') return full(req, res)
    res.statusCode = 404
    res.end()
  })
})

afterAll(async () => {
  await app?.close()
  await sync?.close()
  await db?.drop()
})

async function insertTodos(from: number, count: number, owner = 'u1'): Promise<void> {
  await db.sql(
    `INSERT INTO todos (id, title, owner_id) SELECT ('00000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'todo ' || g, $3
       FROM generate_series($1::int, $2::int) g`,
    [from, from + count - 1, owner],
  )
}

describe('initial sync', () => {
  it('serves the rows over several snapshot chunks, then up-to-date', async () => {
    await insertTodos(1, 120)
    const client = new ClientShape<Todo>(`${app.url}/todos`, { subscribe: false })
    const rows = await client.until((r) => r.length === 120)
    expect(rows.map((r) => r.title).sort()).toEqual(Array.from({ length: 120 }, (_, i) => `todo ${i + 1}`).sort())
    expect(typeof rows[0]!.is_completed).toBe('boolean')
    const snapshotReads = client.requests.filter((r) => r.status === 200 && /^0_\d+$/.test(r.headers.get('electric-offset')!))
    expect(snapshotReads.length).toBeGreaterThan(2)
    const first = client.requests[0]!
    expect(first.url.searchParams.get('offset')).toBe('-1')
    expect(first.headers.get('electric-up-to-date')).toBeNull()
    expect(first.headers.get('cache-control')).toBe('public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746')
    expect(first.headers.get('electric-schema')).toContain('"id":{"type":"uuid","pk_index":0,"not_null":true}')
    const last = client.requests.at(-1)!
    expect(last.headers.get('electric-up-to-date')).toBe('')
    expect(last.headers.get('cache-control')).toBe('public, max-age=60, stale-while-revalidate=300')
    expect(last.body!.endsWith('"control":"up-to-date","global_last_seen_lsn":' + `"${JSON.parse(last.body!).at(-1).headers.global_last_seen_lsn}"}}]`)).toBe(true)
    client.close()
    await db.sql(`DELETE FROM todos`)
  })
})

for (const liveSse of [false, true]) {
  describe(liveSse ? 'live (SSE)' : 'live (long-poll)', () => {
    it('applies inserts, updates and deletes written with plain SQL', async () => {
      await db.sql(`DELETE FROM todos`)
      await insertTodos(1, 3)
      const client = new ClientShape<Todo>(`${app.url}/todos`, { liveSse })
      await client.until((r) => r.length === 3)
      await insertTodos(4, 1)
      await db.sql(`UPDATE todos SET title = 'renamed', is_completed = true WHERE id = $1`, [uuid(1)])
      await db.sql(`DELETE FROM todos WHERE id = $1`, [uuid(2)])
      const rows = await client.until((r) => r.length === 3 && r.some((t) => t.title === 'renamed'))
      expect(rows.map((r) => r.id).sort()).toEqual([uuid(1), uuid(3), uuid(4)])
      expect(rows.find((r) => r.id === uuid(1))).toMatchObject({ title: 'renamed', is_completed: true })
      const live = client.requests.filter((r) => r.url.searchParams.get('live') === 'true')
      expect(live.length).toBeGreaterThan(0)
      if (liveSse) {
        expect(live.some((r) => r.headers.get('content-type') === 'text/event-stream')).toBe(true)
        expect(live[0]!.headers.get('cache-control')).toBe('public, max-age=2')
      } else {
        expect(live[0]!.headers.get('cache-control')).toBe('public, max-age=5, stale-while-revalidate=5')
        expect(live[0]!.headers.get('electric-cursor')).toMatch(/^\d+$/)
        expect(live[0]!.headers.get('electric-schema')).toBeNull()
      }
      expect(client.errors).toEqual([])
      client.close()
    })

    it('recovers from a rotation (TRUNCATE → 409 → refetch)', async () => {
      await db.sql(`DELETE FROM todos`)
      await insertTodos(1, 2)
      const client = new ClientShape<Todo>(`${app.url}/todos`, { liveSse })
      await client.until((r) => r.length === 2)
      const handle = client.stream.shapeHandle
      await db.sql(`TRUNCATE todos`)
      await insertTodos(10, 1)
      const rows = await client.until((r) => r.length === 1 && r[0]!.id === uuid(10))
      expect(rows).toHaveLength(1)
      expect(client.stream.shapeHandle).not.toBe(handle)
      const refetch = client.requests.find((r) => r.status === 409)
      expect(refetch?.headers.get('electric-handle')).toBe(client.stream.shapeHandle)
      expect(refetch?.body).toBe('[{"headers":{"control":"must-refetch"}}]')
      client.close()
    })
  })
}

describe('shapes', () => {
  it('resumes from an offset and handle', async () => {
    await db.sql(`DELETE FROM todos`)
    await insertTodos(1, 2)
    const first = new ClientShape<Todo>(`${app.url}/todos`, { subscribe: false })
    await first.until((r) => r.length === 2)
    const { lastOffset: offset, shapeHandle: handle } = first.stream
    first.close()
    await insertTodos(3, 1)
    const seen: string[] = []
    const resumed = new ClientShape<Todo>(`${app.url}/todos`, { offset, handle })
    resumed.stream.subscribe((messages) => {
      for (const m of messages) if ('key' in m) seen.push(m.value.id as string)
    })
    await resumed.until((r) => r.length === 1)
    expect(seen).toEqual([uuid(3)])
    expect(resumed.requests[0]!.url.searchParams.get('handle')).toBe(handle)
    resumed.close()
  })

  it('sends full rows and old values with replica full', async () => {
    await db.sql(`DELETE FROM todos`)
    await insertTodos(1, 1)
    const client = new ClientShape<Todo>(`${app.url}/full`)
    const messages: unknown[] = []
    client.stream.subscribe((batch) => {
      messages.push(...batch)
    })
    await client.until((r) => r.length === 1)
    await db.sql(`UPDATE todos SET title = 'changed' WHERE id = $1`, [uuid(1)])
    await client.until((r) => r[0]?.title === 'changed')
    const update = messages.find((m) => (m as { headers: { operation?: string } }).headers.operation === 'update') as {
      value: Record<string, unknown>; old_value: Record<string, unknown>
    }
    expect(update.value).toMatchObject({ id: uuid(1), title: 'changed', owner_id: 'u1', is_completed: false })
    expect(update.old_value).toEqual({ title: 'todo 1' })
    client.close()
  })

  it('serves the route shape whatever table/where/columns a client sends', async () => {
    await db.sql(`DELETE FROM todos`)
    await insertTodos(1, 2)
    await db.sql(`UPDATE todos SET is_completed = true WHERE id = $1`, [uuid(2)])
    await db.sql(`INSERT INTO projects (id, name, owner_id) VALUES ($1, 'p', 'u1')`, [uuid(99)])
    const client = new ClientShape<Todo>(`${app.url}/open`, {
      subscribe: false,
      params: { table: 'projects', where: '1 = 1', columns: ['id'], replica: 'full' },
    })
    const rows = await client.until(() => true)
    expect(rows.map((r) => r.id)).toEqual([uuid(1)])
    expect(rows[0]).toMatchObject({ title: 'todo 1', is_completed: false })
    client.close()
  })
})
