// The standalone Electric-compatible server: clients name table and where clause as with Electric,
// guarded by the secret; health; shape DELETE; Electric's 400s for shapes the engine cannot serve.
import { FetchError, ShapeStream } from '@electric-sql/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startShapeServer, type RunningShapeServer } from '../../src/http/server.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { ClientShape, uuid } from './support.js'
import { randomBytes } from 'node:crypto'

let db: TestDatabase
let server: RunningShapeServer
const secret = 'server-test-secret'

beforeAll(async () => {
  db = await createTestDatabase()
  db.pool.on('error', () => {}) // connections ended by drop() may still hear its pg_terminate_backend
  server = await startShapeServer({
    databaseUrl: db.url, port: 0, host: '127.0.0.1', secret, allowShapeDeletion: true, liveTimeoutMs: 1500,
    engine: { slotName: `srv_${randomBytes(5).toString('hex')}`, temporarySlot: true, chunkBytes: 10_000 },
  })
  await db.sql(`CREATE TABLE "Issues For Test" (id int PRIMARY KEY, "Title" text NOT NULL, priority int NOT NULL)`)
  await db.sql(`INSERT INTO "Issues For Test" VALUES (1, 'a', 1), (2, 'b', 5)`)
  await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'one', 'u1'), ($2, 'two', 'u2')`, [uuid(1), uuid(2)])
})

afterAll(async () => {
  await server?.close()
  await db?.drop()
})

const shapeUrl = () => `${server.url}/v1/shape`

async function get(query: string, init: RequestInit = {}) {
  const response = await fetch(`${shapeUrl()}?${query}`, init)
  return { status: response.status, headers: response.headers, text: await response.text() }
}

describe('routes', () => {
  it('needs the secret on /v1/shape', async () => {
    for (const query of ['table=todos&offset=-1', 'table=todos&offset=-1&secret=wrong']) {
      const r = await get(query)
      expect(r.status).toBe(401)
      expect(JSON.parse(r.text)).toEqual({ message: 'Unauthorized - Invalid API secret' })
      expect(r.text).not.toContain(secret)
    }
    expect((await get(`table=todos&offset=-1&secret=${secret}`)).status).toBe(200)
    expect((await get(`table=todos&offset=-1&api_secret=${secret}`)).status).toBe(200)
    expect((await get('', { method: 'OPTIONS' })).status).toBe(204)
  })

  it('answers health, root and unknown paths', async () => {
    const health = await fetch(`${server.url}/v1/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'active' })
    expect(health.headers.get('cache-control')).toBe('no-cache, no-store, must-revalidate')
    const root = await fetch(`${server.url}/`)
    expect(root.status).toBe(200)
    expect(await root.text()).toBe('')
    const other = await fetch(`${server.url}/v2/shape`)
    expect(other.status).toBe(404)
    expect(await other.text()).toBe('Not found')
    expect(other.headers.get('electric-server')).toMatch(/^ElectricSQL\//)
  })
})

describe('shapes named by the client', () => {
  it('syncs a quoted table name with capitals and spaces, with where, params and columns', async () => {
    const client = new ClientShape<{ id: number; Title: string }>(shapeUrl(), {
      params: { table: '"Issues For Test"', where: 'priority > $1', params: ['2'], columns: ['id', 'Title'], secret },
    })
    expect(await client.until((rows) => rows.length === 1)).toEqual([{ id: 2, Title: 'b' }])
    await db.sql(`INSERT INTO "Issues For Test" VALUES (3, 'c', 9), (4, 'd', 0)`)
    expect((await client.until((rows) => rows.length === 2)).map((r) => r.id).sort()).toEqual([2, 3])
    client.close()
  })

  it('lowercases unquoted names, as Postgres does', async () => {
    const r = await get(`table=TODOS&offset=-1&secret=${secret}`)
    expect(r.status).toBe(200)
    expect(r.text).toContain('"relation":["public","todos"]')
  })

  it("answers shapes it cannot serve with Electric's 400 bodies", async () => {
    const cases: [string, object][] = [
      ['offset=-1', { table: ["can't be blank"] }],
      ['table=nonexistent&offset=-1', { table: ['Table "public"."nonexistent" does not exist. If the table name contains capitals or special characters you must quote it.'] }],
      ['table=todos&offset=-1&columns=title', { columns: ['The list of columns must include all primary key columns, missing: "id"'] }],
      ['table=todos&offset=-1&replica=partial', { replica: ['is invalid'] }],
      ['table=todos&offset=-1&columns=', { columns: ['Invalid zero-length delimited identifier'] }],
    ]
    for (const [query, errors] of cases) {
      const r = await get(`${query}&secret=${secret}`)
      expect(r.status, query).toBe(400)
      expect(JSON.parse(r.text), query).toEqual({ message: 'Invalid request', errors })
    }
  })

  it('reports a where-clause syntax error with its location, as Electric does', async () => {
    const stream = new ShapeStream({ url: shapeUrl(), params: { table: 'todos', where: '1 x 1', secret }, onError: () => {} })
    const error = await new Promise<unknown>((resolve) => stream.subscribe(() => {}, resolve))
    expect(error).toBeInstanceOf(FetchError)
    expect((error as FetchError).status).toBe(400)
    expect((error as FetchError).json).toStrictEqual({ message: 'Invalid request', errors: { where: ['At location 17: syntax error at or near "x"'] } })
    stream.unsubscribeAll()
  })
})

describe('DELETE', () => {
  it('deletes a shape by definition or handle: 202, then clients refetch; 404 when there is none', async () => {
    const client = new ClientShape<{ id: string }>(shapeUrl(), { params: { table: 'todos', secret } })
    await client.until((rows) => rows.length === 2)
    const handle = client.stream.shapeHandle!
    const deleted = await fetch(`${shapeUrl()}?table=todos&secret=${secret}`, { method: 'DELETE' })
    expect(deleted.status).toBe(202)
    await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'three', 'u1')`, [uuid(3)])
    await client.until((rows) => rows.length === 3)
    expect(client.stream.shapeHandle).not.toBe(handle)
    expect(client.requests.some((r) => r.status === 409)).toBe(true)
    const byHandle = await fetch(`${shapeUrl()}?handle=${client.stream.shapeHandle}&secret=${secret}`, { method: 'DELETE' })
    expect(byHandle.status).toBe(202)
    client.close()
    const none = await fetch(`${shapeUrl()}?table=todos&where=false&secret=${secret}`, { method: 'DELETE' })
    expect(none.status).toBe(404)
    expect(await none.json()).toEqual({ message: 'No existing shape found' })
  })

  it('is refused unless enabled', async () => {
    const other = await startShapeServer({
      databaseUrl: db.url, port: 0, host: '127.0.0.1',
      engine: { slotName: `srv_${randomBytes(5).toString('hex')}`, temporarySlot: true },
    })
    try {
      const r = await fetch(`${other.url}/v1/shape?table=todos`, { method: 'DELETE' })
      expect(r.status).toBe(405)
      expect(await r.json()).toEqual({ message: 'DELETE not allowed' })
    } finally {
      await other.close()
    }
  })
})
