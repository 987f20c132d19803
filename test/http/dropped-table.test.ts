// A table dropped under live shapes, at the HTTP level: while it is missing, clients get Electric's 409
// with a new handle (never a 400 or a 500); once it is recreated they sync its new rows.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Sync } from '../../src/sync/sync.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { mount, testSync, type Mounted } from './support.js'

let db: TestDatabase
let sync: Sync
let app: Mounted
let errors: unknown[] = []

beforeAll(async () => {
  db = await createTestDatabase()
  db.pool.on('error', () => {})
  sync = testSync(db, { catalogCheckMs: 100 })
  const onError = (error: unknown) => errors.push(error)
  const routes: Record<string, (req: any, res: any) => unknown> = {
    '/flaky': sync.handler(sync.shape({ table: 'flaky' }), { liveTimeoutMs: 1000, onError }),
    '/never': sync.handler(sync.shape({ table: 'never_created' }), { onError }),
  }
  app = await mount((req, res) => routes[new URL(req.url!, 'http://x').pathname]!(req, res))
})

afterAll(async () => {
  await app?.close()
  await sync?.close()
  await db?.drop()
})

const get = async (query: string) => {
  const res = await fetch(`${app.url}/flaky?${query}`)
  return { status: res.status, handle: res.headers.get('electric-handle'), offset: res.headers.get('electric-offset'), body: await res.json() }
}

it('answers 409 with a new handle while the table is missing, then serves the recreated table', async () => {
  await db.sql(`CREATE TABLE flaky (id int PRIMARY KEY, name text)`)
  await db.sql(`INSERT INTO flaky VALUES (1, 'old')`)
  const first = await get('offset=-1')
  expect(first.status).toBe(200)

  await db.sql(`DROP TABLE flaky`)
  const live = await get(`offset=${first.offset}&handle=${first.handle}&live=true`)
  expect(live.status).toBe(409)
  expect(live.handle).toMatch(/./)
  expect(live.handle).not.toBe(first.handle)
  const refetch = await get(`offset=-1&handle=${live.handle}`)
  expect(refetch.status).toBe(409)

  await db.sql(`CREATE TABLE flaky (id int PRIMARY KEY, name text)`)
  await db.sql(`INSERT INTO flaky VALUES (2, 'new')`)
  let next = await get(`offset=-1&handle=${refetch.handle}`)
  if (next.status === 409) next = await get(`offset=-1&handle=${next.handle}`)
  expect(next.status).toBe(200)
  expect(next.body.filter((m: any) => m.value).map((m: any) => m.value)).toEqual([{ id: '2', name: 'new' }])
  expect(errors).toEqual([]) // nothing was a server error

  // A table that never existed is the client's mistake: the 400 that names it.
  const never = await fetch(`${app.url}/never?offset=-1`)
  expect(never.status).toBe(400)
  expect(JSON.stringify(await never.json())).toMatch(/never_created.*does not exist/)
})
