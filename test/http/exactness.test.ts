// The endpoint on the Postgres users run, read with Electric's own client: responses sized by the JSON
// bytes they carry (Electric's chunk rule), every offset a client can hold resumes without gap or repeat
// (also the SSE resume point after each up-to-date), and per-request shapes never cached publicly.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ShapeStream, type Message, type Row } from '@electric-sql/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sync } from '../../src/sync/sync.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { waitFor } from '../support/until.js'
import { ClientShape, fromFetch, mount, recordingFetch, testSync, type Mounted, type Recorded } from './support.js'

const threshold = 10_000
let db: TestDatabase
let sync: Sync
let app: Mounted

const userOf = (req: IncomingMessage | Request) =>
  (req instanceof Request ? req.headers.get('x-user') : (req.headers['x-user'] as string | undefined)) ?? 'nobody'

beforeAll(async () => {
  db = await createTestDatabase()
  db.pool.on('error', () => {})
  sync = testSync(db, { chunkBytes: threshold })
  const ownerShape = (owner: string) => sync.shape({ table: 'todos', where: 'owner_id = $1', params: [owner] })
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => unknown> = {
    '/big': sync.handler(ownerShape('big'), { liveTimeoutMs: 2000 }),
    '/utf8': sync.handler(ownerShape('utf8'), { liveTimeoutMs: 2000 }),
    '/resume': sync.handler(ownerShape('resume'), { liveTimeoutMs: 2000 }),
    '/sse': sync.handler(ownerShape('sse'), { liveTimeoutMs: 2000, sseTimeoutMs: 1200 }),
    '/static': sync.handler(ownerShape('a'), { liveTimeoutMs: 500 }),
    '/mine': sync.handler((req) => ownerShape(userOf(req)), { liveTimeoutMs: 500 }),
    '/mine-vary': sync.handler((req) => ownerShape(userOf(req)), { liveTimeoutMs: 500, vary: 'x-user' }),
    '/mine-fetch': fromFetch(sync.fetchHandler((req) => ownerShape(userOf(req)), { liveTimeoutMs: 500 })),
  }
  app = await mount((req, res) => {
    const route = routes[new URL(req.url!, 'http://x').pathname]
    if (route) return route(req, res)
    res.statusCode = 404
    res.end()
  })
})

afterAll(async () => {
  await app?.close()
  await sync?.close()
  await db?.drop()
})

/** `count` rows of `owner` with titles of about 1 kB, in one statement (one transaction). */
const insertBig = (owner: string, count: number) => db.sql(
  `INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), repeat(md5(g::text || random()::text), 31), $1 FROM generate_series(1, $2) g`,
  [owner, count],
)

const isControl = (m: Message<Row>) => 'control' in m.headers
const bodyOf = (r: Recorded) => JSON.parse(r.body!) as Message<Row>[]
const hasData = (r: Recorded) => r.status === 200 && r.body !== undefined && bodyOf(r).some((m) => !isControl(m) || m.headers.control === 'snapshot-end')

/** What each message counts toward its chunk: its JSON bytes, plus one for a snapshot row (Electric's line break). */
function chunkBytes(messages: Message<Row>[]): number[] {
  return messages
    .filter((m) => !isControl(m) || m.headers.control === 'snapshot-end')
    .map((m) => Buffer.byteLength(JSON.stringify(m)) + ('lsn' in m.headers ? 0 : 1))
}

/** Electric's rule on each response of a phase: the entry that reaches the threshold ends it, none before does. */
function expectElectricChunks(phase: Recorded[]): void {
  phase.forEach((response, i) => {
    const sizes = chunkBytes(bodyOf(response))
    const total = sizes.reduce((a, b) => a + b, 0)
    expect(total - sizes.at(-1)!).toBeLessThan(threshold)
    if (i < phase.length - 1) expect(total).toBeGreaterThanOrEqual(threshold)
  })
}

describe('chunks sized by bytes', () => {
  it('counts UTF-8 bytes, not characters', async () => {
    await db.sql(`INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), repeat('é', 600), 'utf8' FROM generate_series(1, 40)`)
    const client = new ClientShape(`${app.url}/utf8`, { subscribe: false })
    await client.until((rows) => rows.length === 40)
    client.close()
    const snapshot = client.requests.filter(hasData)
    expect(snapshot.length).toBeGreaterThanOrEqual(4)
    expectElectricChunks(snapshot)
  })

  it("cuts snapshot chunks and log responses at Electric's threshold, counting the JSON bytes sent", async () => {
    await insertBig('big', 35)
    const client = new ClientShape(`${app.url}/big`)
    await client.until((rows) => rows.length === 35)
    const snapshot = client.requests.filter(hasData)
    await insertBig('big', 35) // one transaction of 35 changes: the log must be cut too
    await client.until((rows) => rows.length === 70)
    const log = client.requests.filter(hasData).slice(snapshot.length)
    client.close()
    for (const phase of [snapshot, log]) {
      expect(phase.length).toBeGreaterThanOrEqual(3)
      expectElectricChunks(phase)
      phase.forEach((response, i) => {
        // What Electric's own client test asks: 10 kB ± 2 kB, the last one under 11 kB.
        const isLast = i === phase.length - 1
        if (!isLast) expect(response.body!.length).toBeGreaterThanOrEqual(8_000)
        expect(response.body!.length).toBeLessThan(isLast ? 11_000 : 12_000)
      })
    }
  })
})

describe('resume points', () => {
  it('resumes from every offset a response handed out, with changes in the log before the last snapshot chunk is read', async () => {
    await insertBig('resume', 40)
    // The log exists before the reader, and holds changes when the reader gets to the last chunk.
    const first = new ClientShape(`${app.url}/resume`, { subscribe: false })
    await first.until((rows) => rows.length === 40)
    first.close()
    await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'one', 'resume'), (gen_random_uuid(), 'two', 'resume')`)
    await db.sql(`UPDATE todos SET title = 'x' WHERE owner_id = 'resume' AND title <> 'one'`)
    await db.sql(`DELETE FROM todos WHERE owner_id = 'resume' AND title = 'two'`)
    const requests: Recorded[] = []
    const read = async (offset?: string, handle?: string) => {
      const messages: Message<Row>[] = []
      const stream = new ShapeStream({ url: `${app.url}/resume`, subscribe: false, offset: offset as never, handle, fetchClient: recordingFetch(requests) })
      await new Promise<void>((resolve, reject) => {
        stream.subscribe((batch) => {
          messages.push(...batch)
          if (batch.some((m) => isControl(m) && m.headers.control === 'up-to-date')) resolve()
        }, reject)
      })
      stream.unsubscribeAll()
      return messages.filter((m) => !isControl(m) || m.headers.control === 'snapshot-end')
    }
    await waitFor(async () => (await read()).filter((m) => 'lsn' in m.headers).length >= 43, 'the changes in the log', 15_000)
    requests.length = 0
    const reference = await read()
    const responses = requests.filter((r) => r.status === 200)
    expect(responses.length).toBeGreaterThanOrEqual(4)
    let delivered = 0
    for (const response of responses) {
      delivered += bodyOf(response).filter((m) => !isControl(m) || m.headers.control === 'snapshot-end').length
      const resumed = await read(response.headers.get('electric-offset')!, response.headers.get('electric-handle')!)
      expect(resumed, `resumed at ${response.headers.get('electric-offset')}`).toEqual(reference.slice(delivered))
    }
  })

  it('resumes SSE after each up-to-date at the entry, never repeating the rest of a transaction', async () => {
    await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'seed', 'sse')`)
    const client = new ClientShape(`${app.url}/sse`, { liveSse: true })
    const changes: string[] = []
    client.stream.subscribe((batch) => {
      for (const m of batch) if (!isControl(m) && 'lsn' in m.headers) changes.push(`${m.headers.lsn}_${m.headers.op_position}`)
    })
    await client.until((rows) => rows.length === 1)
    const sseRequests = () => client.requests.filter((r) => r.headers.get('content-type') === 'text/event-stream').length
    for (let i = 0; i < 3; i++) {
      const before = sseRequests()
      // Several changes in one transaction; the next SSE connection starts after it.
      await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'a${i}', 'sse'), (gen_random_uuid(), 'b${i}', 'sse');
        UPDATE todos SET title = title || '!' WHERE owner_id = 'sse' AND title LIKE 'seed%'`)
      await client.until((rows) => rows.length === 3 + 2 * i)
      await waitFor(() => sseRequests() >= before + 2, 'the SSE connection to end and reconnect', 15_000)
    }
    await client.until((rows) => rows.length === 7)
    client.close()
    expect(changes.length).toBe(9)
    expect(new Set(changes).size).toBe(changes.length)
    expect(client.errors).toEqual([])
  })
})

describe('cache-control', () => {
  const get = (path: string, query: string, headers: Record<string, string> = {}) => fetch(`${app.url}${path}?${query}`, { headers })

  it("keeps Electric's public caching for a static shape", async () => {
    const response = await get('/static', 'offset=-1')
    expect(response.headers.get('cache-control')).toBe('public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746')
    expect(response.headers.get('vary')).toBeNull()
    await response.body?.cancel()
  })

  for (const path of ['/mine', '/mine-fetch']) {
    it(`answers a per-request shape privately (${path}), and never revalidates one user's first response for another`, async () => {
      const [ann, bob] = [`ann${path.length}`, `bob${path.length}`]
      await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'of ann', $1), (gen_random_uuid(), 'of bob', $2)`, [ann, bob])
      const client = new ClientShape(`${app.url}${path}`, { headers: { 'x-user': ann } })
      await client.until((rows) => rows.length === 1)
      await waitFor(() => client.requests.some((r) => r.url.searchParams.get('live') === 'true'), 'a live request', 15_000)
      client.close()
      const controls = client.requests.map((r) => `${r.url.searchParams.get('offset')} ${r.headers.get('cache-control')}`)
      expect(controls[0]).toBe('-1 private, no-cache')
      for (const control of controls) expect(control).toMatch(/ private(,|$)/)
      for (const control of controls) expect(control).not.toMatch(/s-maxage/)
      expect(client.requests.every((r) => r.headers.get('surrogate-control') === null)).toBe(true)

      const first = await get(path, 'offset=-1', { 'x-user': ann })
      const other = await get(path, 'offset=-1', { 'x-user': bob, 'if-none-match': first.headers.get('etag')! })
      expect(other.status).toBe(200)
      expect(await other.text()).toContain('of bob')
      await first.body?.cancel()
      const wrongHandle = await get(path, `offset=0_0&handle=${first.headers.get('electric-handle')}`, { 'x-user': bob })
      expect(wrongHandle.status).toBe(409)
      expect(wrongHandle.headers.get('cache-control')).toMatch(/^private/)
      await wrongHandle.body?.cancel()
    })
  }

  it('keeps public caching with the Vary the app configures', async () => {
    const response = await get('/mine-vary', 'offset=-1', { 'x-user': 'ann' })
    expect(response.headers.get('cache-control')).toBe('public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746')
    expect(response.headers.get('vary')).toBe('x-user')
    await response.body?.cancel()
  })
})
