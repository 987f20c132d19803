// Every column type of all_types, read by Electric's client through the handler and parsed from
// `electric-schema` as the client parses Electric's own responses: from the snapshot and from replication.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Sync } from '../../src/sync/sync.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { ClientShape, mount, testSync, uuid, type Mounted } from './support.js'

let db: TestDatabase
let sync: Sync
let app: Mounted

beforeAll(async () => {
  db = await createTestDatabase()
  sync = testSync(db)
  app = await mount(sync.handler(sync.shape(db.prisma.allTypes), { liveTimeoutMs: 2000 }))
})

afterAll(async () => {
  await app?.close()
  await sync?.close()
  await db?.drop()
})

const insert = (id: string) => db.sql(
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

it('parses every type from the snapshot and from replication exactly as from Electric', async () => {
  await insert(uuid(1))
  await db.sql(`INSERT INTO all_types (id) VALUES ($1)`, [uuid(3)])
  const client = new ClientShape<Record<string, unknown>>(app.url)
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
