// http mode: createSync({ mode: 'http' }) against a second process running the standalone server (the
// stand-in for Electric, which cannot run here). The same endpoint and stream suites as the embedded
// engine, plus what only a proxy can get wrong: the secret, client-sent shape parameters, forwarding.
import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ElectricError, ElectricUnavailableError } from '../../src/electric/errors.js'
import { ElectricSource } from '../../src/electric/source.js'
import { isClientError } from '../../src/source/source.js'
import { createSync, type Sync } from '../../src/sync/sync.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { appRoutes, handlerSuite, streamSuite } from './suite.js'
import { ClientShape, mount, spawnShapeServer, uuid, type Mounted, type SpawnedServer } from './support.js'

const secret = `s3cret-${randomBytes(8).toString('hex')}`
let db: TestDatabase
let electric: SpawnedServer
let sync: Sync
let app: Mounted
let owner = 'u1'
/** Every byte and header the app sent to clients. */
let sent = ''
/** What the handlers' onError got. */
const logged: { error: unknown; requestId: string }[] = []

beforeAll(async () => {
  db = await createTestDatabase()
  db.pool.on('error', () => {}) // connections ended by drop() may still hear its pg_terminate_backend
  electric = await spawnShapeServer({
    DATABASE_URL: db.url,
    ELECTRIC_SECRET: secret,
    ELECTRIC_ENABLE_INTEGRATION_TESTING: 'true',
    ELECTRIC_LONG_POLL_TIMEOUT: '2000',
    ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD: '2000',
    ELECTRIC_REPLICATION_STREAM_ID: randomBytes(5).toString('hex'),
    CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN: 'true',
  })
  sync = createSync({ mode: 'http', url: electric.url, secret, prisma: db.prisma })
  const routes = appRoutes(sync, db, {})
  const extra: Record<string, ReturnType<Sync['handler']>> = {
    '/mine': sync.handler(() => sync.shape(db.prisma.todo, { where: { ownerId: owner } })),
    '/shout': sync.handler(sync.shape({ table: 'todos' }).withTransform((m) =>
      (m.value.title ? { ...m, value: { ...m.value, title: m.value.title.toUpperCase() } } : m))),
    '/broken': sync.handler(sync.shape({ table: 'todos', where: '1 x 1' }), { onError: (error, { requestId }) => logged.push({ error, requestId }) }),
    '/logged': sync.handler(sync.shape({ table: 'todos' }), { onError: (error, { requestId }) => logged.push({ error, requestId }) }),
  }
  app = await mount((req, res) => {
    record(res)
    const route = extra[new URL(req.url!, 'http://x').pathname]
    return route ? route(req, res) : routes(req, res)
  })
})

afterAll(async () => {
  await app?.close()
  await sync?.close()
  await electric?.stop()
  await db?.drop()
})

function record(res: ServerResponse): void {
  const write = res.write.bind(res)
  const end = res.end.bind(res)
  const setHeader = res.setHeader.bind(res)
  res.setHeader = (name, value) => {
    sent += `${name}: ${String(value)}\n`
    return setHeader(name, value)
  }
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    sent += String(chunk)
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest)
  }) as typeof res.write
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (chunk && typeof chunk !== 'function') sent += String(chunk)
    return (end as (...a: unknown[]) => ServerResponse)(chunk, ...rest)
  }) as typeof res.end
}

const context = () => ({ db, sync, url: app.url, sseCacheControl: 'public, max-age=59' })
handlerSuite(context)
streamSuite(context)

describe('proxy', () => {
  async function get(path: string, query: string, init: RequestInit = {}) {
    const response = await fetch(`${app.url}${path}?${query}`, init)
    return { status: response.status, headers: response.headers, text: await response.text() }
  }

  it("forwards Electric's headers, etags and 304s", async () => {
    const first = await get('/todos', 'offset=-1')
    expect(first.status).toBe(200)
    expect(first.headers.get('electric-handle')).toBeTruthy()
    expect(first.headers.get('electric-schema')).toBeTruthy()
    expect(first.headers.get('access-control-expose-headers')).toContain('electric-offset')
    const again = await get('/todos', 'offset=-1', { headers: { 'if-none-match': first.headers.get('etag')! } })
    expect(again.status).toBe(304)
  })

  it("answers Electric's 400s with the parameter it names, not its text, which goes to onError under the request id", async () => {
    const cases = [
      // The app's shape, which the database's parser rejects.
      ['/broken', 'offset=-1', { where: ["Electric rejected the request's where"] }, 'syntax error at or near'],
      // A client's subset where.
      ['/logged', `offset=-1&subset__where=${encodeURIComponent('title::int > 1 x')}`, { subset: { where: ["Electric rejected the request's subset.where"] } }, 'syntax error at or near'],
    ] as const
    for (const [path, query, errors, original] of cases) {
      logged.length = 0
      const r = await get(path, query)
      expect(r.status).toBe(400)
      const body = JSON.parse(r.text)
      expect(body).toEqual({ message: 'Invalid request', errors, requestId: expect.stringMatching(/^[0-9a-f]{16}$/) })
      expect(r.text).not.toContain('syntax')
      expect(logged).toHaveLength(1)
      expect(logged[0]!.requestId).toBe(body.requestId)
      const cause = (logged[0]!.error as Error).cause as Error
      expect(cause.message).toMatch(/^Electric answered 400: /)
      expect(cause.message).toContain(original)
    }
    expect(sent).not.toContain('syntax error')
  })

  it('never lets a client choose the table, not even in a POST body', async () => {
    await db.sql(`INSERT INTO projects (id, name, owner_id) VALUES ($1, 'p', 'u1') ON CONFLICT DO NOTHING`, [uuid(77)])
    const r = await fetch(`${app.url}/todos?offset=-1&table=projects`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ table: 'projects', columns: 'id', where: 'true' }),
    })
    expect(r.status).toBe(200)
    const body = await r.json()
    expect(JSON.stringify(body)).not.toContain('"projects"')
    expect(JSON.stringify(body)).toContain('"todos"')
  })

  it('applies the transform to proxied bodies, long-poll and SSE', async () => {
    await db.sql(`DELETE FROM todos`)
    await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'quiet', 'u1')`, [uuid(1)])
    for (const liveSse of [false, true]) {
      const client = new ClientShape<{ title: string }>(`${app.url}/shout`, { liveSse })
      await client.until((rows) => rows.some((r) => r.title === 'QUIET'))
      await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'loud', 'u1') ON CONFLICT (id) DO UPDATE SET title = 'loud'`, [uuid(2)])
      await client.until((rows) => rows.some((r) => r.title === 'LOUD'))
      await db.sql(`DELETE FROM todos WHERE id = $1`, [uuid(2)])
      client.close()
    }
  })

  it('interrupts a proxied live request: 409 when the shape changed', async () => {
    owner = 'u1'
    let r = await get('/mine', 'offset=-1')
    let handle = r.headers.get('electric-handle')!
    let offset = r.headers.get('electric-offset')!
    while (!r.headers.has('electric-up-to-date')) {
      r = await get('/mine', `offset=${offset}&handle=${handle}`)
      handle = r.headers.get('electric-handle')!
      offset = r.headers.get('electric-offset')!
    }
    const pending = get('/mine', `offset=${offset}&handle=${handle}&live=true`)
    for (let seen = 0; seen === 0; await new Promise((resolve) => setTimeout(resolve, 20))) {
      sync.interrupt(() => {
        seen++
        return false
      })
    }
    owner = 'u2'
    expect(sync.interrupt('todos')).toBe(1)
    const answer = await pending
    expect(answer.status).toBe(409)
    expect(answer.headers.get('electric-handle')).not.toBe(handle)
  })

  it("answers a per-request shape privately, whatever Electric's cache-control, and a static one publicly", async () => {
    owner = 'u1'
    const mine = await get('/mine', 'offset=-1')
    expect(mine.headers.get('cache-control')).toBe('private, no-cache')
    const next = await get('/mine', `offset=${mine.headers.get('electric-offset')}&handle=${mine.headers.get('electric-handle')}`)
    expect(next.headers.get('cache-control')).toBe('private, max-age=60, stale-while-revalidate=300')
    expect(next.headers.get('surrogate-control')).toBeNull()
    const todos = await get('/todos', 'offset=-1')
    expect(todos.headers.get('cache-control')).toBe('public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746')
  })

  it('fails streams for good when Electric rejects the secret', async () => {
    const wrong = createSync({ mode: 'http', url: electric.url, secret: 'wrong', prisma: db.prisma })
    const stream = wrong.stream(wrong.shape(db.prisma.todo))
    const error = await stream.next().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ElectricError)
    expect((error as ElectricError).status).toBe(401)
    expect(String((error as Error).message)).not.toContain('wrong')
    await wrong.close()
  })

  it('reports an unreachable Electric as a transient error without the URL or secret', async () => {
    const source = new ElectricSource({ url: 'http://127.0.0.1:9/', secret })
    const error = await source.fetch({ namespace: 'public', table: 'todos', replica: 'default' }, { offset: '-1' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ElectricUnavailableError)
    expect(isClientError(error)).toBe(false)
    expect(String((error as Error).message)).not.toContain(secret)
  })

  it('never shows the secret to clients or in the server log', () => {
    expect(sent.length).toBeGreaterThan(10_000)
    expect(sent).not.toContain(secret)
    expect(electric.output()).not.toContain(secret)
  })
})
