// The endpoint at the HTTP level: Electric's 400 bodies, offset=now, long-poll timeout, cursor, etag/304,
// cache-control, CORS and preflights, HEAD, subsets, transforms, interrupts, and arbitrary client input.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EmbeddedEngine } from '../../src/engine/index.js'
import { Shape } from '../../src/sync/shape.js'
import type { Sync } from '../../src/sync/sync.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { ClientShape, fromFetch, mount, testSync, uuid, type Mounted } from './support.js'

let db: TestDatabase
let sync: Sync
let app: Mounted
let owner = 'u1'

beforeAll(async () => {
  db = await createTestDatabase()
  db.pool.on('error', () => {}) // connections ended by drop() may still hear its pg_terminate_backend
  sync = testSync(db)
  const options = { liveTimeoutMs: 1500 }
  const routes: Record<string, (req: any, res: any) => unknown> = {
    '/todos': sync.handler(sync.shape({ table: 'todos' }), options),
    '/mine': sync.handler(() => sync.shape(db.prisma.todo, { where: { ownerId: owner } }), { liveTimeoutMs: 10_000 }),
    '/shout': sync.handler(sync.shape({ table: 'todos' }).withTransform((m) =>
      m.value.is_completed === 'true' || m.value.is_completed === 't' ? null
        : m.value.title ? { ...m, value: { ...m.value, title: m.value.title.toUpperCase() } } : m), options),
    '/fetch': fromFetch(sync.fetchHandler(sync.shape({ table: 'todos' }), options)),
    '/throws': (req: any, res: any) => sync.handler(() => {
      throw new Error('not signed in')
    })(req, res, (error) => {
      res.statusCode = 401
      res.end(String((error as Error).message))
    }),
    '/bad-shape': sync.handler(() => sync.shape({ table: 'todos', where: '' })),
    '/titles': sync.handler(sync.shape({ table: 'todos', columns: ['id', 'title'] })),
    '/sse': sync.handler(sync.shape({ table: 'todos' }), { sseTimeoutMs: 1500, keepAliveMs: 400 }),
    '/private': sync.handler(sync.shape({ table: 'todos' }), { cors: { origin: ['https://app.example'], allowHeaders: ['authorization'], credentials: true } }),
  }
  app = await mount((req, res) => {
    const route = routes[new URL(req.url!, 'http://x').pathname]
    if (route) return route(req, res)
    res.statusCode = 404
    res.end()
  })
  await db.sql(`INSERT INTO todos (id, title, owner_id, is_completed) VALUES ($1, 'one', 'u1', false), ($2, 'two', 'u2', true)`, [uuid(1), uuid(2)])
})

afterAll(async () => {
  await app?.close()
  await sync?.close()
  await db?.drop()
})

/** Resolves once `count` live requests are held (an interrupt predicate sees each without ending it). */
async function held(count: number): Promise<void> {
  for (let seen = 0; seen < count; await new Promise((r) => setTimeout(r, 20))) {
    seen = 0
    sync.interrupt(() => {
      seen++
      return false
    })
  }
}

async function get(path: string, query: string, init: RequestInit = {}) {
  const response = await fetch(`${app.url}${path}?${query}`, init)
  return { status: response.status, headers: response.headers, text: await response.text() }
}

/**
 * The handle and the offset after the initial snapshot, with every earlier commit in the log: otherwise a
 * change still on its way through replication (an earlier test's last write) answers the next live
 * request at once, which then is never held, and `held()` waits forever.
 */
async function synced(path = '/todos'): Promise<{ handle: string; offset: string }> {
  await ((await sync.source()) as EmbeddedEngine).flush()
  let r = await get(path, 'offset=-1')
  let handle = r.headers.get('electric-handle')!
  let offset = r.headers.get('electric-offset')!
  while (!r.headers.has('electric-up-to-date')) {
    r = await get(path, `offset=${offset}&handle=${handle}`)
    handle = r.headers.get('electric-handle')!
    offset = r.headers.get('electric-offset')!
  }
  return { handle, offset }
}

describe('bad input', () => {
  const cases: [string, object][] = [
    ['', { offset: ["can't be blank"] }],
    ['offset=', { offset: ["can't be blank"] }],
    ['offset=garbage', { offset: ['has invalid format'] }],
    ['offset=1_2_3', { offset: ['has invalid format'] }],
    ['offset=10', { offset: ['has invalid format'] }],
    ['offset=0_0', { handle: ["can't be blank when offset != -1"] }],
    ['offset=0_0&handle=', { handle: ["can't be blank when offset != -1"] }],
    ['offset=-1&live=true', { live: ["can't be true when offset == -1"] }],
    ['offset=-1&live', { live: ["can't be true when offset == -1"] }],
    ['offset=now&live=true', { live: ["can't be true when offset is 'now'"] }],
    ['offset=0_0&handle=h&live_sse=true', { live_sse: ["can't be true unless live is also true"] }],
    ['offset=-1&log=everything', { log: ['is invalid'] }],
    ['offset=-1&subset__limit=10', { subset: { order_by: ['order_by is required when limit or offset is present'] } }],
    ['offset=-1&subset__limit=0&subset__order_by=title', { subset: { limit: ['must be greater than 0'] } }],
    ['offset=-1&subset__params=[1]', { subset: { params: ['params must be a JSON object'] } }],
  ]
  for (const [query, errors] of cases) {
    it(`answers ?${query} with Electric's 400`, async () => {
      const r = await get('/todos', query)
      expect(r.status).toBe(400)
      expect(JSON.parse(r.text)).toEqual({ message: 'Invalid request', errors })
      expect(r.headers.get('cache-control')).toBe('no-store')
      expect(r.headers.get('surrogate-control')).toBe('no-store')
      expect(r.headers.has('electric-has-data')).toBe(false)
    })
  }

  it('answers a subset where clause it cannot evaluate with the location', async () => {
    const r = await get('/todos', `offset=-1&subset__where=${encodeURIComponent('1 x 1')}`)
    expect(r.status).toBe(400)
    expect(JSON.parse(r.text)).toEqual({ message: 'Invalid request', errors: { subset: { where: ['At location 17: syntax error at or near "x"'] } } })
  })

  it('answers an unknown handle with 409 and the current handle', async () => {
    const { handle, offset } = await synced()
    const r = await get('/todos', `offset=${offset}&handle=not-a-handle`)
    expect(r.status).toBe(409)
    expect(r.headers.get('electric-handle')).toBe(handle)
    expect(r.headers.get('cache-control')).toBe('public, max-age=60, must-revalidate')
    expect(r.text).toBe('[{"headers":{"control":"must-refetch"}}]')
  })

  it('never fails with a 5xx on arbitrary parameters, bodies and methods', async () => {
    const keys = ['offset', 'handle', 'live', 'live_sse', 'cursor', 'log', 'table', 'where', 'subset__where', 'subset__limit',
      'subset__order_by', 'subset__params', 'params[1]', 'columns', 'replica', 'x']
    const values = fc.oneof(fc.constantFrom('-1', 'now', '0_0', '0_inf', '1_2', 'true', 'false', '', '0_99999999999999999999', 'id = $1', '{"1":"a"}'), fc.string())
    await fc.assert(fc.asyncProperty(
      fc.array(fc.tuple(fc.constantFrom(...keys), values), { maxLength: 6 }),
      fc.constantFrom('GET', 'POST', 'HEAD', 'PUT'),
      fc.option(fc.oneof(fc.string(), fc.json()), { nil: undefined }),
      async (pairs, method, body) => {
        const query = new URLSearchParams(pairs).toString()
        const init: RequestInit = { method, signal: AbortSignal.timeout(5000) }
        if (method === 'POST' || method === 'PUT') init.body = body ?? ''
        const response = await fetch(`${app.url}/todos?${query}`, init).catch((e) => ({ status: e.name === 'TimeoutError' ? 200 : 0 }))
        expect([200, 304, 400, 405, 409, 413]).toContain(response.status)
      }), { numRuns: 150 })
  })
})

describe('responses', () => {
  it('answers offset=now at once with the latest offset and no data', async () => {
    const { offset } = await synced()
    const r = await get('/todos', 'offset=now')
    expect(r.status).toBe(200)
    expect(r.headers.get('electric-offset')).toBe(offset)
    expect(r.headers.get('electric-has-data')).toBe('false')
    expect(r.headers.get('electric-up-to-date')).toBe('')
    expect(JSON.parse(r.text)).toEqual([{ headers: { control: 'up-to-date', global_last_seen_lsn: expect.stringMatching(/^\d+$/) } }])
  })

  it('holds a long-poll until the timeout and answers up-to-date with no data and a new cursor', async () => {
    const { handle, offset } = await synced()
    const started = Date.now()
    const r = await get('/todos', `offset=${offset}&handle=${handle}&live=true&cursor=999999999`)
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400)
    expect(r.status).toBe(200)
    expect(r.headers.get('electric-has-data')).toBe('false')
    expect(r.headers.get('electric-offset')).toBe(offset)
    expect(Number(r.headers.get('electric-cursor'))).toBeGreaterThan(999999999)
    expect(r.headers.get('etag')).toMatch(new RegExp(`^"${handle}:${offset}:${offset}:\\d+"$`))
    expect(r.headers.has('electric-schema')).toBe(false)
  })

  it('answers a live request with the change as soon as it commits', async () => {
    const { handle, offset } = await synced()
    const pending = get('/todos', `offset=${offset}&handle=${handle}&live=true`)
    await new Promise((r) => setTimeout(r, 200))
    await db.sql(`UPDATE todos SET title = 'uno' WHERE id = $1`, [uuid(1)])
    const r = await pending
    const body = JSON.parse(r.text)
    expect(body[0]).toMatchObject({ value: { id: uuid(1), title: 'uno' }, headers: { operation: 'update' } })
    expect(body.at(-1).headers.control).toBe('up-to-date')
    expect(r.headers.get('electric-has-data')).toBe('true')
    expect(r.headers.get('electric-up-to-date')).toBe('')
    await db.sql(`UPDATE todos SET title = 'one' WHERE id = $1`, [uuid(1)])
  })

  it('revalidates with etag and If-None-Match (304)', async () => {
    const first = await get('/todos', 'offset=-1')
    const tag = first.headers.get('etag')!
    expect(tag).toBe(`"${first.headers.get('electric-handle')}:-1:${first.headers.get('electric-offset')}"`)
    const again = await get('/todos', 'offset=-1', { headers: { 'if-none-match': tag } })
    expect(again.status).toBe(304)
    expect(again.text).toBe('')
    expect(again.headers.get('etag')).toBe(tag)
    expect(again.headers.get('electric-handle')).toBe(first.headers.get('electric-handle'))
    expect(again.headers.has('electric-schema')).toBe(false)
  })

  it('answers HEAD with the headers only', async () => {
    const r = await get('/todos', 'offset=-1', { method: 'HEAD' })
    expect(r.status).toBe(200)
    expect(r.text).toBe('')
    expect(r.headers.get('electric-offset')).toBe('0_0')
  })

  it('sends CORS headers and answers preflights as Electric does', async () => {
    const r = await get('/todos', 'offset=-1', { headers: { origin: 'https://somewhere.example' } })
    expect(r.headers.get('access-control-allow-origin')).toBe('https://somewhere.example')
    expect(r.headers.get('access-control-expose-headers')).toBe(
      'electric-cursor,electric-handle,electric-has-data,electric-offset,electric-schema,electric-up-to-date,electric-internal-known-error,retry-after')
    expect((await get('/todos', 'offset=-1')).headers.get('access-control-allow-origin')).toBe('*')
    const options = await get('/todos', '', { method: 'OPTIONS', headers: { 'access-control-request-headers': 'if-none-match, authorization' } })
    expect(options.status).toBe(204)
    expect(options.headers.get('access-control-max-age')).toBe('86400')
    expect(options.headers.get('access-control-allow-headers')).toBe('if-none-match')
    expect(options.headers.get('access-control-allow-methods')).toBe('GET, POST, HEAD, OPTIONS')
  })

  it('restricts CORS to configured origins', async () => {
    const allowed = await get('/private', 'offset=-1', { headers: { origin: 'https://app.example' } })
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true')
    const other = await get('/private', 'offset=-1', { headers: { origin: 'https://evil.example' } })
    expect(other.headers.has('access-control-allow-origin')).toBe(false)
    const preflight = await get('/private', '', { method: 'OPTIONS', headers: { 'access-control-request-headers': 'authorization' } })
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization')
  })

  it("passes errors of the app's shape function to next(), and answers a ShapeError with 400", async () => {
    const r = await get('/throws', 'offset=-1')
    expect(r.status).toBe(401)
    expect(r.text).toBe('not signed in')
    const bad = await get('/bad-shape', 'offset=-1')
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.text)).toEqual({ message: 'Invalid request', errors: { where: [expect.any(String)] } })
  })

  it('ignores unknown parameters and cache busters', async () => {
    const r = await get('/todos', 'offset=-1&cache-buster=abc&expired_handle=old&secret=nope&foo=bar')
    expect(r.status).toBe(200)
  })

  it('serves the same protocol as a fetch handler', async () => {
    const client = new ClientShape(`${app.url}/fetch`)
    await client.until((rows) => rows.length === 2)
    await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'three', 'u1')`, [uuid(3)])
    await client.until((rows) => rows.length === 3)
    client.close()
    await db.sql(`DELETE FROM todos WHERE id = $1`, [uuid(3)])
  })
})

describe('SSE', () => {
  it('streams data events, keep-alive comments, and closes after the SSE timeout', async () => {
    const { handle, offset } = await synced('/sse')
    const started = Date.now()
    const response = await fetch(`${app.url}/sse?offset=${offset}&handle=${handle}&live=true&live_sse=true`, { headers: { accept: 'text/event-stream' } })
    expect(response.headers.get('content-type')).toBe('text/event-stream')
    expect(response.headers.get('cache-control')).toBe('public, max-age=1')
    expect(response.headers.get('electric-offset')).toBe(offset)
    expect(response.headers.get('electric-cursor')).toMatch(/^\d+$/)
    expect(response.headers.has('electric-schema')).toBe(false)
    setTimeout(() => void db.sql(`UPDATE todos SET title = 'sse' WHERE id = $1`, [uuid(1)]), 200)
    const text = await response.text()
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400)
    const events = text.split('\n\n').filter(Boolean)
    expect(events).toContain(': keep-alive')
    const data = events.filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)))
    expect(data[0]).toMatchObject({ value: { id: uuid(1), title: 'sse' }, headers: { operation: 'update' } })
    const upToDate = data.at(-1)
    expect(upToDate.headers.control).toBe('up-to-date')
    // An SSE client resumes from `<global_last_seen_lsn>_0`: never before the change it got.
    expect(BigInt(upToDate.headers.global_last_seen_lsn)).toBeGreaterThanOrEqual(BigInt(data[0].headers.lsn))
    await db.sql(`UPDATE todos SET title = 'one' WHERE id = $1`, [uuid(1)])
  })
})

describe('log=changes_only', () => {
  for (const subsetMethod of ['GET', 'POST'] as const) {
    it(`sends only later changes, and subset snapshots on request (${subsetMethod})`, async () => {
      const client = new ClientShape<{ id: string; title: string; owner_id: string }>(`${app.url}/todos`, { log: 'changes_only', subsetMethod })
      await client.until(() => true)
      expect(client.rows).toEqual([])
      expect(client.requests[0]!.url.searchParams.get('log')).toBe('changes_only')
      expect(JSON.parse(client.requests[0]!.body!)).toEqual([{ headers: expect.objectContaining({ control: 'snapshot-end' }) }])
      await client.shape.requestSnapshot({ where: 'owner_id = $1', params: { '1': 'u2' }, orderBy: 'title', limit: 10 })
      expect(client.rows.map((r) => r.id)).toEqual([uuid(2)])
      await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'five', 'u1')`, [uuid(5)])
      await client.until((rows) => rows.length === 2)
      await db.sql(`DELETE FROM todos WHERE id = $1`, [uuid(5)])
      await client.until((rows) => rows.length === 1)
      const subset = client.requests.find((r) => r.headers.get('electric-snapshot') === 'true')!
      expect(subset.method).toBe(subsetMethod)
      client.close()
    })
  }
})

describe('transform', () => {
  it('maps and drops messages before they leave the server', async () => {
    const r = await get('/shout', 'offset=-1')
    const changes = JSON.parse(r.text).filter((m: { key?: string }) => m.key)
    expect(changes).toEqual([expect.objectContaining({ value: expect.objectContaining({ id: uuid(1), title: 'ONE' }) })])
    const direct = await get('/todos', 'offset=-1')
    expect(direct.text).toContain('"title":"one"')
  })
})

describe('subsets', () => {
  it('answers subset__* with the matching rows and the snapshot metadata', async () => {
    const r = await get('/todos', `offset=-1&subset__where=${encodeURIComponent('owner_id = $1')}&subset__params=${encodeURIComponent('{"1":"u2"}')}&subset__order_by=title&subset__limit=5`)
    expect(r.text).not.toContain('errors')
    expect(r.status).toBe(200)
    expect(r.headers.get('electric-snapshot')).toBe('true')
    expect(r.headers.get('cache-control')).toBe('no-cache')
    const body = JSON.parse(r.text)
    expect(body.metadata).toEqual({
      xmin: expect.stringMatching(/^\d+$/), xmax: expect.stringMatching(/^\d+$/), xip_list: expect.any(Array),
      snapshot_mark: expect.any(Number), database_lsn: expect.stringMatching(/^\d+$/),
    })
    expect(body.data).toEqual([{
      key: `"public"."todos"/"${uuid(2)}"`,
      value: expect.objectContaining({ id: uuid(2), title: 'two', owner_id: 'u2' }),
      headers: { operation: 'insert', relation: ['public', 'todos'], snapshot_mark: body.metadata.snapshot_mark },
    }])
  })

  it('takes the subset from a POST body and ANDs it with the route shape', async () => {
    const response = await fetch(`${app.url}/todos?offset=now`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ where: 'title <> $1', params: { 1: 'zzz' }, order_by: 'title DESC NULLS LAST', limit: 1, table: 'projects' }),
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-cache')
    const body = await response.json()
    expect(body.data.map((m: { value: { title: string } }) => m.value.title)).toEqual(['two'])
  })

  it('refuses SQL the where compiler does not accept', async () => {
    for (const [key, value] of [['subset__where', 'pg_sleep(1) IS NULL'], ['subset__order_by', 'id; DROP TABLE todos'], ['subset__order_by', 'pg_sleep(1)']]) {
      const r = await get('/todos', `offset=-1&${key}=${encodeURIComponent(value!)}`)
      expect(r.status).toBe(400)
    }
    expect((await db.sql(`SELECT count(*)::int AS n FROM todos`))[0].n).toBe(2)
  })

  it("cannot filter or order by a column the route's shape does not select", async () => {
    for (const [key, value] of [['subset__where', `owner_id = 'u2'`], ['subset__order_by', 'owner_id']]) {
      const r = await get('/titles', `offset=-1&${key}=${encodeURIComponent(value!)}`)
      expect(r.status, value).toBe(400)
    }
    expect((await get('/titles', `offset=-1&subset__where=${encodeURIComponent(`title = 'two'`)}`)).status).toBe(200)
  })

  it('answers bad POST bodies as Electric does', async () => {
    const bad = await fetch(`${app.url}/todos?offset=-1`, { method: 'POST', body: '{nope' })
    expect(bad.status).toBe(400)
    expect((await bad.json()).error).toBe('Invalid JSON in request body')
    const array = await fetch(`${app.url}/todos?offset=-1`, { method: 'POST', body: '[1]' })
    expect(await array.json()).toEqual({ error: 'Request body must be a JSON object' })
  })
})

describe('interrupt', () => {
  it('ends a held request: 409 with the new handle when the shape changed', async () => {
    owner = 'u1'
    const { handle, offset } = await synced('/mine')
    const started = Date.now()
    const pending = get('/mine', `offset=${offset}&handle=${handle}&live=true`)
    await held(1)
    owner = 'u2'
    expect(sync.interrupt('todos')).toBe(1)
    const r = await pending
    expect(Date.now() - started).toBeLessThan(5000)
    expect(r.status).toBe(409)
    expect(r.headers.get('electric-handle')).not.toBe(handle)
    const fresh = await get('/mine', 'offset=-1')
    expect(fresh.headers.get('electric-handle')).toBe(r.headers.get('electric-handle'))
    expect(fresh.text).toContain(uuid(2))
  })

  it('keeps holding when the shape function returns the same shape', async () => {
    owner = 'u2'
    const { handle, offset } = await synced('/mine')
    const pending = get('/mine', `offset=${offset}&handle=${handle}&live=true`)
    await held(1)
    expect(sync.interrupt(sync.shape(db.prisma.todo, { where: { ownerId: 'u2' } }))).toBe(1)
    expect(sync.interrupt({ table: 'projects' })).toBe(0)
    await held(1)
    await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'four', 'u2')`, [uuid(4)])
    const r = await pending
    expect(r.status).toBe(200)
    expect(JSON.parse(r.text)[0]).toMatchObject({ value: { id: uuid(4) }, headers: { operation: 'insert' } })
    await db.sql(`DELETE FROM todos WHERE id = $1`, [uuid(4)])
  })

  it('interrupts by predicate and Prisma model', async () => {
    owner = 'u2'
    const { handle, offset } = await synced('/mine')
    const pending = get('/mine', `offset=${offset}&handle=${handle}&live=true`)
    await held(1)
    expect(sync.interrupt((d) => d.table === 'issues')).toBe(0)
    owner = 'u1'
    expect(sync.interrupt(db.prisma.todo)).toBe(1)
    expect((await pending).status).toBe(409)
  })
})

it('a Shape withTransform keeps its definition', () => {
  const shape = sync.shape({ table: 'todos' })
  const transformed = shape.withTransform((m) => m)
  expect(transformed).toBeInstanceOf(Shape)
  expect(transformed.definition).toBe(shape.definition)
})
