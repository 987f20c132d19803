// Shapes the engine refuses, over HTTP, on both servers (the standalone Electric-compatible server and an
// app's sync.handler): a system catalog or a view is a 400 naming it (not a 500 from ALTER TABLE on a
// catalog); a where Postgres refuses is a 400 in our words with a requestId, once, and the server's
// onError gets Postgres's text under that id; an honest client's changes keep arriving meanwhile.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startShapeServer, type RunningShapeServer } from '../../src/http/server.js'
import type { Sync } from '../../src/sync/sync.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { waitFor } from '../support/until.js'
import { mount, testSync, type Mounted } from './support.js'

let db: TestDatabase
let server: RunningShapeServer
let sync: Sync
let app: Mounted
const logged: { requestId: string; error: unknown }[] = []
const secret = 'refusals-secret'

beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql(`CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)`)
  await db.sql(`INSERT INTO notes VALUES (1, 'not a number')`)
  await db.sql(`CREATE VIEW notes_view AS SELECT * FROM notes`)
  const onError = (error: unknown, { requestId }: { requestId: string }) => { logged.push({ requestId, error }) }
  server = await startShapeServer({
    databaseUrl: db.url, port: 0, host: '127.0.0.1', secret, liveTimeoutMs: 1000, onError,
    engine: { slotName: `ref_${randomBytes(5).toString('hex')}`, temporarySlot: true },
  })
  sync = testSync(db)
  const handler = sync.handler((req) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams
    return sync.shape({ table: query.get('t') ?? 'notes', where: query.get('w') ?? undefined })
  }, { onError })
  app = await mount(handler)
})

afterAll(async () => {
  await app?.close()
  await sync?.close()
  await server?.close()
  await db?.drop()
})

const standalone = (query: string) => fetch(`${server.url}/v1/shape?secret=${secret}&offset=-1&${query}`)
const appRoute = (query: string) => fetch(`${app.url}/shapes?offset=-1&${query}`)

const servers: [string, (what: { table: string; where?: string }) => Promise<Response>][] = [
  ['the standalone server', ({ table, where }) => standalone(`table=${encodeURIComponent(table)}${where ? `&where=${encodeURIComponent(where)}` : ''}`)],
  ['an app\'s sync.handler', ({ table, where }) => appRoute(`t=${encodeURIComponent(table)}${where ? `&w=${encodeURIComponent(where)}` : ''}`)],
]

describe.each(servers)('%s', (_name, get) => {
  it('refuses a system catalog, naming it and what is supported (400, not 500)', async () => {
    const response = await get({ table: 'pg_catalog.pg_class' })
    expect(response.status).toBe(400)
    const body = await response.json() as { errors: { table: string[] } }
    expect(body.errors.table[0]).toMatch(/"pg_catalog"\."pg_class" is in the system schema.*Only ordinary and partitioned tables/)
  })

  it('refuses a view, naming it', async () => {
    const response = await get({ table: 'notes_view' })
    expect(response.status).toBe(400)
    const body = await response.json() as { errors: { table: string[] } }
    expect(body.errors.table[0]).toMatch(/"public"\."notes_view" is a view, not a table/)
  })

  it('answers a where Postgres refuses once, in our words, with the id its original was logged under', async () => {
    const response = await get({ table: 'notes', where: 'body::int > 0' })
    expect(response.status).toBe(400)
    const text = await response.text()
    expect(text).not.toMatch(/invalid input syntax|not a number|\/work\/|node_modules|stack/)
    const body = JSON.parse(text) as { errors: { where: string[] }; requestId: string }
    expect(body.errors.where[0]).toMatch(/not valid for its column type \[SQLSTATE 22P02\]/)
    const original = logged.find((l) => l.requestId === body.requestId)?.error as Error | undefined
    expect((original?.cause as Error | undefined)?.message).toMatch(/invalid input syntax for type integer/)
  })
})

describe('an honest client while an attacker is answered', () => {
  it('gets each of its changes within a second', async () => {
    // The honest client: a live long-poll on the standalone server, as Electric's client does it.
    const first = await standalone('table=notes')
    const handle = first.headers.get('electric-handle')!
    let offset = first.headers.get('electric-offset')!
    await first.text()
    const attack = Promise.all(Array.from({ length: 20 }, (_, i) =>
      (i % 2 ? standalone('table=pg_catalog.pg_class') : standalone(`table=notes&where=${encodeURIComponent(`body::int > ${i}`)}`)).then((r) => r.status)))
    for (let id = 10; id < 13; id++) {
      const committed = Date.now()
      await db.sql(`INSERT INTO notes VALUES ($1, 'honest')`, [id])
      let seen = false
      await waitFor(async () => {
        const r = await fetch(`${server.url}/v1/shape?secret=${secret}&table=notes&handle=${handle}&offset=${offset}&live=true`)
        offset = r.headers.get('electric-offset') ?? offset
        seen = (await r.text()).includes(`"id":"${id}"`) || seen
        return seen
      }, `honest change ${id}`, 5000, 0)
      expect(Date.now() - committed).toBeLessThan(1000)
    }
    expect(new Set(await attack)).toEqual(new Set([400]))
  })
})
