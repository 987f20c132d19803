// The endpoint tests both modes run: Electric's own client (ShapeStream / Shape) against app routes
// served by sync.handler, with changes written by plain SQL outside the app. Live cases run in long-poll
// and SSE mode. handler.test.ts runs them on the embedded engine, http-mode.test.ts through a proxy to
// a second process running the standalone server.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, expect, it } from 'vitest'
import type { ShapeHandlerOptions } from '../../src/http/options.js'
import type { Sync } from '../../src/sync/sync.js'
import type { TestDatabase } from '../support/db.js'
import { ClientShape, uuid } from './support.js'

export interface SuiteContext {
  db: TestDatabase
  sync: Sync
  /** Base URL of the mounted routes. */
  url: string
  /** `cache-control` of an SSE live response in this setup. */
  sseCacheControl: string
}

type Todo = { id: string; title: string; is_completed: boolean; owner_id: string }

/** The app routes the suite reads: the same shapes in both modes. */
export function appRoutes(sync: Sync, db: TestDatabase, options: ShapeHandlerOptions) {
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    '/todos': sync.handler(sync.shape({ table: 'todos' }), options),
    '/open': sync.handler(sync.shape(db.prisma.todo, { where: { completed: false } }), options),
    '/full': sync.handler(sync.shape({ table: 'todos', replica: 'full' }), options),
    '/types': sync.handler(sync.shape(db.prisma.allTypes), options),
  }
  return (req: IncomingMessage, res: ServerResponse) => {
    const route = routes[new URL(req.url!, 'http://x').pathname]
    if (route) return route(req, res)
    res.statusCode = 404
    res.end()
  }
}

export function handlerSuite(context: () => SuiteContext): void {
  const sql = (text: string, params?: unknown[]) => context().db.sql(text, params)
  const url = (path: string) => `${context().url}${path}`

  async function insertTodos(from: number, count: number, owner = 'u1'): Promise<void> {
    await sql(
      `INSERT INTO todos (id, title, owner_id) SELECT ('00000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'todo ' || g, $3
         FROM generate_series($1::int, $2::int) g`,
      [from, from + count - 1, owner],
    )
  }

  describe('initial sync', () => {
    it('serves the rows over several snapshot chunks, then up-to-date', async () => {
      await insertTodos(1, 120)
      const client = new ClientShape<Todo>(url('/todos'), { subscribe: false })
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
      await sql(`DELETE FROM todos`)
    })
  })

  for (const liveSse of [false, true]) {
    describe(liveSse ? 'live (SSE)' : 'live (long-poll)', () => {
      it('applies inserts, updates and deletes written with plain SQL', async () => {
        await sql(`DELETE FROM todos`)
        await insertTodos(1, 3)
        const client = new ClientShape<Todo>(url('/todos'), { liveSse })
        await client.until((r) => r.length === 3)
        await insertTodos(4, 1)
        await sql(`UPDATE todos SET title = 'renamed', is_completed = true WHERE id = $1`, [uuid(1)])
        await sql(`DELETE FROM todos WHERE id = $1`, [uuid(2)])
        const rows = await client.until((r) => r.length === 3 && r.some((t) => t.title === 'renamed'))
        expect(rows.map((r) => r.id).sort()).toEqual([uuid(1), uuid(3), uuid(4)])
        expect(rows.find((r) => r.id === uuid(1))).toMatchObject({ title: 'renamed', is_completed: true })
        const live = client.requests.filter((r) => r.url.searchParams.get('live') === 'true')
        expect(live.length).toBeGreaterThan(0)
        if (liveSse) {
          expect(live.some((r) => r.headers.get('content-type') === 'text/event-stream')).toBe(true)
          expect(live[0]!.headers.get('cache-control')).toBe(context().sseCacheControl)
        } else {
          expect(live[0]!.headers.get('cache-control')).toBe('public, max-age=5, stale-while-revalidate=5')
          expect(live[0]!.headers.get('electric-cursor')).toMatch(/^\d+$/)
          expect(live[0]!.headers.get('electric-schema')).toBeNull()
        }
        expect(client.errors).toEqual([])
        client.close()
      })

      it('recovers from a rotation (TRUNCATE → 409 → refetch)', async () => {
        await sql(`DELETE FROM todos`)
        await insertTodos(1, 2)
        const client = new ClientShape<Todo>(url('/todos'), { liveSse })
        await client.until((r) => r.length === 2)
        const handle = client.stream.shapeHandle
        await sql(`TRUNCATE todos`)
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
      await sql(`DELETE FROM todos`)
      await insertTodos(1, 2)
      // Live until it has both rows: the inserts may reach the log just after a first up-to-date.
      const first = new ClientShape<Todo>(url('/todos'))
      await first.until((r) => r.length === 2)
      const { lastOffset: offset, shapeHandle: handle } = first.stream
      first.close()
      await insertTodos(3, 1)
      const seen: string[] = []
      const resumed = new ClientShape<Todo>(url('/todos'), { offset, handle })
      resumed.stream.subscribe((messages) => {
        for (const m of messages) if ('key' in m) seen.push(m.value.id as string)
      })
      await resumed.until((r) => r.length === 1)
      expect(seen).toEqual([uuid(3)])
      expect(resumed.requests[0]!.url.searchParams.get('handle')).toBe(handle)
      resumed.close()
    })

    it('sends full rows and old values with replica full', async () => {
      await sql(`DELETE FROM todos`)
      await insertTodos(1, 1)
      const client = new ClientShape<Todo>(url('/full'))
      const messages: unknown[] = []
      client.stream.subscribe((batch) => {
        messages.push(...batch)
      })
      await client.until((r) => r.length === 1)
      await sql(`UPDATE todos SET title = 'changed' WHERE id = $1`, [uuid(1)])
      await client.until((r) => r[0]?.title === 'changed')
      const update = messages.find((m) => (m as { headers: { operation?: string } }).headers.operation === 'update') as {
        value: Record<string, unknown>; old_value: Record<string, unknown>
      }
      expect(update.value).toMatchObject({ id: uuid(1), title: 'changed', owner_id: 'u1', is_completed: false })
      expect(update.old_value).toEqual({ title: 'todo 1' })
      client.close()
    })

    it('serves the route shape whatever table/where/columns a client sends', async () => {
      await sql(`DELETE FROM todos`)
      await insertTodos(1, 2)
      await sql(`UPDATE todos SET is_completed = true WHERE id = $1`, [uuid(2)])
      await sql(`INSERT INTO projects (id, name, owner_id) VALUES ($1, 'p', 'u1')`, [uuid(99)])
      const client = new ClientShape<Todo>(url('/open'), {
        subscribe: false,
        params: { table: 'projects', where: '1 = 1', columns: ['id'], replica: 'full' },
      })
      const rows = await client.until(() => true)
      expect(rows.map((r) => r.id)).toEqual([uuid(1)])
      expect(rows[0]).toMatchObject({ title: 'todo 1', is_completed: false })
      client.close()
    })
  })

  const insert = (id: string) => sql(
    `INSERT INTO all_types (id, str, bool, int_value, big, float, dec, date, json, bytes, status, strs, ints, created_at)
     VALUES ($1, 'hello, "world"', true, -42, 9007199254740993, 1.5, 12345.6789, '2024-01-02T03:04:05.678Z',
             '{"a": [1, 2, {"b": null}], "c": "d"}', '\\xdeadbeef', 'in progress', ARRAY['a', 'b c', '"q"', NULL, 'NULL'], ARRAY[1, -2, 3],
             '2024-05-06 07:08:09.123')`,
    [id],
  )

  const expected = (id: string) => ({
    id,
    str: 'hello, "world"',
    bool: true,
    int_value: -42,
    big: 9007199254740993n,
    float: 1.5,
    dec: '12345.678900',
    date: '2024-01-02 03:04:05.678+00',
    json: { a: [1, 2, { b: null }], c: 'd' },
    bytes: '\\xdeadbeef',
    status: 'in progress',
    strs: ['a', 'b c', '"q"', null, 'NULL'],
    ints: [1, -2, 3],
    created_at: '2024-05-06 07:08:09.123',
  })

  describe('types', () => {
    it('parses every type from the snapshot and from replication exactly as from Electric', async () => {
      await insert(uuid(1))
      await sql(`INSERT INTO all_types (id) VALUES ($1)`, [uuid(3)])
      const client = new ClientShape<Record<string, unknown>>(url('/types'))
      await client.until((rows) => rows.length === 2)
      await insert(uuid(2))
      const rows = await client.until((r) => r.length === 3)
      const byId = new Map(rows.map((r) => [r.id, r]))
      expect(byId.get(uuid(1))).toEqual(expected(uuid(1)))
      expect(byId.get(uuid(2))).toEqual(expected(uuid(2)))
      const empty = byId.get(uuid(3))!
      expect(Object.entries(empty).filter(([, v]) => v !== null).map(([k]) => k).sort()).toEqual(['created_at', 'id'])
      const schema = JSON.parse(client.requests[0]!.headers.get('electric-schema')!)
      expect(schema).toMatchObject({
        id: { type: 'uuid', pk_index: 0, not_null: true },
        int_value: { type: 'int4' },
        big: { type: 'int8' },
        dec: { type: 'numeric', precision: 20, scale: 6 },
        strs: { type: 'text', dims: 1 },
        ints: { type: 'int4', dims: 1 },
        status: { type: 'issue_status' },
        json: { type: 'jsonb' },
      })
      client.close()
    })
  })
}

/** sync.stream / sync.live: the same Prisma-facing events whichever source is behind the Sync. */
export function streamSuite(context: () => SuiteContext): void {
  const sql = (text: string, params?: unknown[]) => context().db.sql(text, params)

  async function txid(text: string, params: unknown[]): Promise<number> {
    const client = await context().db.pool.connect()
    try {
      await client.query('BEGIN')
      const { rows } = await client.query<{ txid: string }>(`SELECT pg_current_xact_id()::xid::text AS txid`)
      await client.query(text, params)
      await client.query('COMMIT')
      return Number(rows[0]!.txid)
    } finally {
      client.release()
    }
  }

  /** Reads `sync.stream` in the background; `until` waits for an event matching a check. */
  function reader(shape: Parameters<Sync['stream']>[0], options: Parameters<Sync['stream']>[1] = {}) {
    const controller = new AbortController()
    const events: any[] = []
    let wake = () => {}
    const done = (async () => {
      for await (const event of context().sync.stream(shape, { ...options, signal: controller.signal })) {
        events.push(event)
        wake()
      }
    })().catch((error) => {
      if (!controller.signal.aborted) throw error
    })
    return {
      events,
      async until(check: (event: any) => boolean, timeoutMs = 15_000): Promise<any> {
        const deadline = Date.now() + timeoutMs
        for (;;) {
          const found = events.find(check)
          if (found) return found
          if (Date.now() > deadline) throw new Error(`timed out; events: ${JSON.stringify(events.map((e) => e.type))}`)
          await new Promise<void>((resolve) => {
            wake = resolve
            setTimeout(resolve, 100)
          })
        }
      },
      async stop() {
        controller.abort()
        await done
      },
    }
  }

  describe('sync.stream', () => {
    it('yields Prisma rows: the initial rows, up-to-date, then live changes with their txids', async () => {
      await sql(`DELETE FROM todos`)
      await sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'one', 'u1'), ($2, 'other', 'u2')`, [uuid(1), uuid(2)])
      const { db, sync } = context()
      const r = reader(sync.shape(db.prisma.todo, { where: { ownerId: 'u1' } }))
      await r.until((e) => e.type === 'up-to-date')
      const initial = r.events.filter((e) => e.type === 'insert')
      expect(initial.map((e) => e.row.title)).toEqual(['one'])
      expect(initial[0].row).toMatchObject({ id: uuid(1), completed: false, ownerId: 'u1' })
      expect(initial[0].row.createdAt).toBeInstanceOf(Date)
      expect(r.events.some((e) => e.type === 'snapshot-end')).toBe(true)

      const inserted = await txid(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'three', 'u1')`, [uuid(3)])
      const updated = await txid(`UPDATE todos SET is_completed = true WHERE id = $1`, [uuid(1)])
      const deleted = await txid(`DELETE FROM todos WHERE id = $1`, [uuid(3)])
      await sql(`UPDATE todos SET title = 'ignored' WHERE id = $1`, [uuid(2)])
      expect(await r.until((e) => e.type === 'insert' && e.row.id === uuid(3))).toMatchObject({ txids: [inserted], row: { title: 'three' } })
      expect(await r.until((e) => e.type === 'update')).toMatchObject({ txids: [updated], row: { id: uuid(1), title: 'one', completed: true }, changes: { completed: true } })
      expect(await r.until((e) => e.type === 'delete')).toMatchObject({ txids: [deleted], row: { id: uuid(3), title: 'three' } })
      expect(r.events.some((e) => e.row?.title === 'ignored')).toBe(false)
      const last = r.events.filter((e) => e.type !== 'up-to-date').at(-1)
      await r.stop()

      // Resuming from a change's position yields only what followed it.
      const resumed = reader(sync.shape(db.prisma.todo, { where: { ownerId: 'u1' } }), { handle: last.handle, offset: last.offset })
      await sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'five', 'u1')`, [uuid(5)])
      await resumed.until((e) => e.type === 'insert')
      expect(resumed.events.filter((e) => e.type === 'insert' || e.type === 'delete').map((e) => e.row.id)).toEqual([uuid(5)])
      await resumed.stop()
    })

    it('sync.live keeps rows current and starts over after a TRUNCATE', async () => {
      await sql(`DELETE FROM todos`)
      await sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'one', 'u1')`, [uuid(1)])
      const { db, sync } = context()
      const live = sync.live(sync.shape(db.prisma.todo))
      await live.ready
      const wait = async (check: () => boolean) => {
        const deadline = Date.now() + 15_000
        while (!check()) {
          if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(live.toArray())}`)
          await new Promise((r) => setTimeout(r, 20))
        }
      }
      // Commits just made may reach the log after the first up-to-date.
      await wait(() => live.toArray().length === 1 && live.toArray()[0]!.title === 'one')
      await sql(`UPDATE todos SET title = 'uno' WHERE id = $1`, [uuid(1)])
      await wait(() => live.toArray()[0]?.title === 'uno')
      await sql(`TRUNCATE todos`)
      await sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'after', 'u1')`, [uuid(2)])
      await wait(() => live.toArray().length === 1 && live.toArray()[0]!.title === 'after')
      live.close()
    })
  })
}
