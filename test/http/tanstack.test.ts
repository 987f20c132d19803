// TanStack DB's electric collection against sync.handler: eager sync, awaitTxId for a write made in a
// transaction, an optimistic insert confirmed by its txid, and on-demand sync (subset snapshots).
import { createCollection, createLiveQueryCollection, eq } from '@tanstack/db'
import { electricCollectionOptions } from '@tanstack/electric-db-collection'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Sync } from '../../src/sync/sync.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { mount, testSync, uuid, type Mounted } from './support.js'


type Todo = { id: string; title: string; is_completed: boolean; owner_id: string; created_at: string }

let db: TestDatabase
let sync: Sync
let app: Mounted

beforeAll(async () => {
  db = await createTestDatabase()
  db.pool.on('error', () => {}) // connections ended by drop() may still hear its pg_terminate_backend
  sync = testSync(db)
  app = await mount(sync.handler(sync.shape({ table: 'todos' }), { liveTimeoutMs: 2000 }))
  await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'one', 'u1'), ($2, 'two', 'u2')`, [uuid(1), uuid(2)])
})

afterAll(async () => {
  await app?.close()
  await sync?.close()
  await db?.drop()
})

/** Writes in one transaction and returns its txid, as an app's mutation endpoint would. */
async function writeInTransaction(sql: string, params: unknown[]): Promise<number> {
  const client = await db.pool.connect()
  try {
    await client.query('BEGIN')
    const { rows } = await client.query<{ txid: string }>(`SELECT pg_current_xact_id()::xid::text AS txid`)
    await client.query(sql, params)
    await client.query('COMMIT')
    return Number(rows[0]!.txid)
  } finally {
    client.release()
  }
}

const until = async (check: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

it('syncs a collection and resolves awaitTxId for a transaction written outside the app', async () => {
  const todos = createCollection(electricCollectionOptions<Todo>({
    id: 'todos-eager',
    shapeOptions: { url: app.url },
    getKey: (row) => row.id,
  }))
  await todos.preload()
  expect([...todos.values()].map((t) => t.title).sort()).toEqual(['one', 'two'])

  const txid = await writeInTransaction(`UPDATE todos SET title = 'uno', is_completed = true WHERE id = $1`, [uuid(1)])
  await todos.utils.awaitTxId(txid, 10_000)
  expect(todos.get(uuid(1))).toMatchObject({ title: 'uno', is_completed: true })
  await writeInTransaction(`DELETE FROM todos WHERE id = $1`, [uuid(2)]).then((id) => todos.utils.awaitTxId(id, 10_000))
  expect(todos.has(uuid(2))).toBe(false)
  await todos.cleanup()
  await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'two', 'u2') ON CONFLICT DO NOTHING`, [uuid(2)])
})

it('confirms an optimistic insert when its txid arrives', async () => {
  const todos = createCollection(electricCollectionOptions<Todo>({
    id: 'todos-optimistic',
    shapeOptions: { url: app.url },
    getKey: (row) => row.id,
    onInsert: async ({ transaction }) => {
      const row = transaction.mutations[0]!.modified
      const txid = await writeInTransaction(`INSERT INTO todos (id, title, owner_id) VALUES ($1, $2, $3)`, [row.id, row.title, row.owner_id])
      return { txid }
    },
  }))
  await todos.preload()
  const tx = todos.insert({ id: uuid(3), title: 'three', is_completed: false, owner_id: 'u1', created_at: '' })
  await tx.isPersisted.promise
  expect(todos.get(uuid(3))).toMatchObject({ title: 'three', owner_id: 'u1' })
  expect(todos.get(uuid(3))!.created_at).toMatch(/^\d{4}-/)
  await todos.cleanup()
})

it('loads subsets on demand for live queries', async () => {
  const todos = createCollection(electricCollectionOptions<Todo>({
    id: 'todos-on-demand',
    shapeOptions: { url: app.url },
    getKey: (row) => row.id,
    syncMode: 'on-demand',
  }))
  const mine = createLiveQueryCollection((q) => q.from({ todo: todos }).where(({ todo }) => eq(todo.owner_id, 'u2')))
  await mine.preload()
  await until(() => mine.size === 1)
  expect([...mine.values()].map((t) => t.id)).toEqual([uuid(2)])
  expect(todos.has(uuid(1))).toBe(false)
  await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'four', 'u2')`, [uuid(4)])
  await until(() => mine.size === 2)
  await mine.cleanup()
  await todos.cleanup()
})
