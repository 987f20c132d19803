// The standalone server's client-named shapes under the where limits: a where clause over whereBytes,
// params over shapeParams and a clause nested thousands of levels deep are Electric-style 400s naming
// the problem (not 500s); an honest request is served meanwhile. (At the default whereBytes, 16 KiB, a
// GET's where is mostly bounded first by Node's 16 KB header limit: 431.)
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startShapeServer, type RunningShapeServer } from '../../src/http/server.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'

let db: TestDatabase
let server: RunningShapeServer

beforeAll(async () => {
  db = await createTestDatabase()
  server = await startShapeServer({
    databaseUrl: db.url, port: 0, host: '127.0.0.1', limits: { whereBytes: 4096, shapeParams: 3 },
    engine: { slotName: `lim_${randomBytes(5).toString('hex')}`, temporarySlot: true },
  })
  await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'one', 'u1')`)
})
afterAll(async () => {
  await server?.close()
  await db?.drop()
})

async function get(query: string) {
  const response = await fetch(`${server.url}/v1/shape?table=todos&offset=-1&${query}`)
  return { status: response.status, body: await response.text() }
}

describe('standalone server: where limits', () => {
  it('answers 400 naming whereBytes, shapeParams or the nesting, and serves an honest request', async () => {
    const tooLong = await get(`where=${encodeURIComponent(`title = '${'x'.repeat(5000)}'`)}`)
    expect(tooLong.status).toBe(400)
    expect(JSON.parse(tooLong.body).errors.whereBytes[0]).toMatch(/limit whereBytes: 4096/)

    const params = Array.from({ length: 4 }, (_, i) => `params[${i + 1}]=x`).join('&')
    const tooMany = await get(`where=${encodeURIComponent('title IN ($1, $2, $3, $4)')}&${params}`)
    expect(tooMany.status).toBe(400)
    expect(JSON.parse(tooMany.body).errors.shapeParams[0]).toMatch(/limit shapeParams: 3/)

    const deep = await get(`where=${encodeURIComponent(`${'NOT '.repeat(1000)}true`)}`)
    expect(deep.status).toBe(400)
    expect(deep.body).toMatch(/nested too deeply/)

    const honest = await get(`where=${encodeURIComponent('title = $1')}&params[1]=one`)
    expect(honest.status).toBe(200)
    expect(JSON.parse(honest.body).filter((m: { value?: { title: string } }) => m.value?.title === 'one')).toHaveLength(1)
  })

})
