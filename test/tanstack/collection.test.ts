// TanStack DB collections over tRPC end to end: real @tanstack/db, real @trpc/client over real
// WebSockets to createSyncWSServer, the embedded engine on a real Postgres. Each test has its own user,
// so its shape holds only its own rows.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { createTransaction } from '@tanstack/db'
import { TRPCClientError } from '@trpc/client'
import { BatchRejectedError, TxidTimeoutError, liveShape } from '../../client/index.js'
import { toTanstackBatch } from '../../client/tanstack/index.js'
import { converges, record, startApp, until, type TestApp } from '../trpc/support.js'
import { findTodos, plain, recordingMutate, rowsOf, todoCollection, type Todo } from './support.js'

let app: TestApp
beforeAll(async () => {
  app = await startApp()
})
afterAll(async () => {
  await app?.close()
})

const newTodo = (ownerId: string, title: string, completed = false): Todo =>
  ({ id: randomUUID(), title, completed, ownerId, createdAt: new Date() })

const insertSql = (ownerId: string, title: string) =>
  app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), $1, $2)`, [title, ownerId])

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => { throw new Error('expected a rejection') }, (error: unknown) => error)
}

describe('trpcCollectionOptions', () => {
  it('round-trips optimistic inserts, updates and deletes, confirmed by txid without a flicker', async () => {
    const user = randomUUID()
    await insertSql(user, 'from before')
    const client = app.client(user)
    const mutate = recordingMutate(client)
    const todos = todoCollection(client, { mutate, delay: 50 })
    expectTypeOf(todos.utils.awaitTxId).toEqualTypeOf<(txid: number, timeout?: number) => Promise<true>>()
    await todos.preload()
    expect(rowsOf(todos.toArray)).toEqual(await findTodos(app, { ownerId: user }))

    const row = newTodo(user, 'optimistic')
    const events: [string, string, boolean][] = []
    todos.subscribeChanges((changes) => {
      for (const c of changes) if (c.key === row.id) events.push([c.type, c.value.title, c.value.$synced])
    })

    // insert: visible at once, unsynced; persisted once its txid is in the synced data
    const insert = todos.insert(row)
    expect(todos.get(row.id)).toMatchObject({ title: 'optimistic', $synced: false })
    await insert.isPersisted.promise
    expect(mutate.txids).toHaveLength(1)
    expect(todos._state.syncedData.get(row.id)).toEqual(row)
    expect(todos.get(row.id)?.$synced).toBe(true)
    expect((await app.db.sql('SELECT xmin::text FROM todos WHERE id = $1', [row.id]))[0].xmin).toBe(String(mutate.txids[0]))

    // update
    const update = todos.update(row.id, (draft) => {
      draft.title = 'renamed'
      draft.completed = true
    })
    expect(todos.get(row.id)).toMatchObject({ title: 'renamed', completed: true, $synced: false })
    await update.isPersisted.promise
    expect(todos._state.syncedData.get(row.id)).toMatchObject({ title: 'renamed', completed: true })
    expect(await findTodos(app, { id: row.id })).toEqual([{ ...row, title: 'renamed', completed: true }])

    // delete
    const remove = todos.delete(row.id)
    expect(todos.has(row.id)).toBe(false)
    await remove.isPersisted.promise
    expect(todos._state.syncedData.has(row.id)).toBe(false)
    expect(mutate.txids).toHaveLength(3)
    expect(rowsOf(todos.toArray)).toEqual(await findTodos(app, { ownerId: user }))

    // The row never went away between the optimistic write and the synced one, nor came back after the delete.
    expect(events).toEqual([
      ['insert', 'optimistic', false],
      ['update', 'optimistic', true],
      ['update', 'renamed', false],
      ['update', 'renamed', true],
      ['delete', 'renamed', true], // the value as it was: synced
    ])
  })

  it('applies writes made with SQL outside the app', async () => {
    const user = randomUUID()
    const todos = todoCollection(app.client(user))
    await todos.preload()
    await insertSql(user, 'one')
    await insertSql(user, 'two')
    await insertSql(randomUUID(), 'someone else\'s')
    await app.db.sql(`UPDATE todos SET is_completed = true, title = 'one!' WHERE owner_id = $1 AND title = 'one'`, [user])
    await app.db.sql(`DELETE FROM todos WHERE owner_id = $1 AND title = 'two'`, [user])
    await insertSql(user, 'three')
    await converges(() => rowsOf(todos.toArray), () => findTodos(app, { ownerId: user }), 'the collection to follow SQL writes')
    expect(todos.toArray.map((r) => r.title).sort()).toEqual(['one!', 'three'])
  })

  it('follows the subscription input (a where the server allows)', async () => {
    const user = randomUUID()
    const client = app.client(user)
    const open = todoCollection(client, { input: { where: { completed: false } } })
    await open.preload()
    const row = newTodo(user, 'open')
    await open.insert(row).isPersisted.promise
    await app.db.sql('UPDATE todos SET is_completed = true WHERE id = $1', [row.id]) // moves out of the shape
    await until(() => !open.has(row.id), 'the completed todo to leave')
    expect(rowsOf(open.toArray)).toEqual(await findTodos(app, { ownerId: user, completed: false }))
  })

  it('rolls back a mutation the server refuses (FORBIDDEN), and writes nothing', async () => {
    const user = randomUUID()
    const todos = todoCollection(app.client(user))
    await todos.preload()
    const row = newTodo(randomUUID(), 'for someone else')
    const tx = todos.insert(row)
    expect(todos.has(row.id)).toBe(true)
    const error = await rejection(tx.isPersisted.promise)
    // the server's answer: its code and reason, the tRPC error as the cause
    expect(error).toBeInstanceOf(BatchRejectedError)
    expect((error as BatchRejectedError).code).toBe('FORBIDDEN')
    expect(((error as BatchRejectedError).cause as TRPCClientError<any>).data?.code).toBe('FORBIDDEN')
    expect(tx.state).toBe('failed')
    expect(todos.has(row.id)).toBe(false)
    expect(await app.db.prisma.todo.findUnique({ where: { id: row.id } })).toBeNull()
  })

  it('rolls back a batch the server cannot parse (BAD_REQUEST): unknown relation', async () => {
    const user = randomUUID()
    const client = app.client(user)
    const todos = todoCollection(client, { relation: ['public', 'nope'] })
    await todos.preload()
    const row = newTodo(user, 'lost')
    const error = await rejection(todos.insert(row).isPersisted.promise)
    expect((error as BatchRejectedError).code).toBe('BAD_REQUEST')
    expect(todos.has(row.id)).toBe(false)
    expect(await app.db.prisma.todo.findUnique({ where: { id: row.id } })).toBeNull()
  })

  it('sends a transaction over several collections as one batch: all or nothing (toTanstackBatch, awaitTxId)', async () => {
    const user = randomUUID()
    const client = app.client(user)
    const todos = todoCollection(client)
    await todos.preload()
    const persist = async ({ transaction }: { transaction: { mutations: Parameters<typeof toTanstackBatch>[0] } }) => {
      const { txid } = await client.todos.mutate.mutate(toTanstackBatch(transaction.mutations, ['public', 'todos']))
      await todos.utils.awaitTxId(txid)
    }

    const [a, b] = [newTodo(user, 'a'), newTodo(user, 'b')]
    const ok = createTransaction({ mutationFn: persist })
    ok.mutate(() => {
      todos.insert(a)
      todos.insert(b)
    })
    await ok.isPersisted.promise
    expect(rowsOf(todos.toArray)).toEqual(await findTodos(app, { ownerId: user }))
    expect(todos.toArray.map((r) => r.title).sort()).toEqual(['a', 'b'])

    const refused = createTransaction({ mutationFn: persist })
    const c = newTodo(user, 'c')
    refused.mutate(() => {
      todos.update(a.id, (draft) => { draft.title = 'a2' })
      todos.insert(c)
      todos.insert(newTodo(randomUUID(), 'not mine'))
    })
    expect(todos.get(a.id)?.title).toBe('a2')
    expect((await rejection(refused.isPersisted.promise) as TRPCClientError<any>).data?.code).toBe('FORBIDDEN')
    expect(todos.get(a.id)?.title).toBe('a')
    expect(todos.has(c.id)).toBe(false)
    expect((await findTodos(app, { ownerId: user })).map((r) => r.title).sort()).toEqual(['a', 'b'])
  })

  it('awaitTxId times out for a txid outside the shape, and resolves for one in its snapshot', async () => {
    const user = randomUUID()
    const before = await app.db.sql<{ txid: string }>(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'x', $1) RETURNING pg_current_xact_id()::xid::text AS txid`, [user])
    const todos = todoCollection(app.client(user))
    await todos.preload()
    await expect(todos.utils.awaitTxId(Number(before[0]!.txid))).resolves.toBe(true)
    const other = await app.db.sql<{ txid: string }>(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'y', $1) RETURNING pg_current_xact_id()::xid::text AS txid`, [randomUUID()])
    await expect(todos.utils.awaitTxId(Number(other[0]!.txid), 300)).rejects.toBeInstanceOf(TxidTimeoutError)
  })

  it('reloads after must-refetch (TRUNCATE), and keeps writing', async () => {
    const user = randomUUID()
    const todos = todoCollection(app.client(user))
    await insertSql(user, 'old 1')
    await insertSql(user, 'old 2')
    await todos.preload()
    expect(todos.size).toBe(2)
    await app.db.sql('TRUNCATE todos')
    await insertSql(user, 'new')
    await converges(() => rowsOf(todos.toArray), () => findTodos(app, { ownerId: user }), 'the collection to reload')
    expect(todos.toArray.map((r) => r.title)).toEqual(['new'])
    expect(todos.status).toBe('ready')

    const row = newTodo(user, 'after')
    await todos.insert(row).isPersisted.promise
    expect(rowsOf(todos.toArray)).toEqual(await findTodos(app, { ownerId: user }))
  })

  it('two collections on two clients see each other\'s writes', async () => {
    const user = randomUUID()
    const one = todoCollection(app.client(user))
    const two = todoCollection(app.client(user))
    await Promise.all([one.preload(), two.preload()])
    const row = newTodo(user, 'from one')
    await one.insert(row).isPersisted.promise
    await until(() => two.has(row.id), 'two to see one\'s insert')
    await two.update(row.id, (draft) => { draft.completed = true }).isPersisted.promise
    await until(() => one.get(row.id)?.completed === true, 'one to see two\'s update')
    await one.delete(row.id).isPersisted.promise
    await until(() => !two.has(row.id), 'two to see one\'s delete')
    const expected = await findTodos(app, { ownerId: user })
    expect(rowsOf(one.toArray)).toEqual(expected)
    expect(rowsOf(two.toArray)).toEqual(expected)
  })

  it('keeps syncing and writing across a restart of the WebSocket server (the client resumes)', async () => {
    const user = randomUUID()
    const todos = todoCollection(app.client(user))
    await todos.preload()
    await todos.insert(newTodo(user, 'before')).isPersisted.promise
    await app.restartWs()
    await insertSql(user, 'while away')
    await converges(() => rowsOf(todos.toArray), () => findTodos(app, { ownerId: user }), 'the collection to catch up')
    await todos.insert(newTodo(user, 'after')).isPersisted.promise
    expect(rowsOf(todos.toArray)).toEqual(await findTodos(app, { ownerId: user }))
    expect(todos.size).toBe(3)
  })

  it('fails to load when the subscription is refused, and reports it', async () => {
    const errors: unknown[] = []
    const todos = todoCollection(app.client(null), { onError: (e) => errors.push(e) })
    await expect(todos.preload()).rejects.toBeInstanceOf(TRPCClientError)
    expect(todos.status).toBe('error')
    expect((errors[0] as TRPCClientError<any>).data?.code).toBe('FORBIDDEN')
    await expect(todos.utils.awaitTxId(1, 100)).rejects.toBe(errors[0])
  })
})

describe('a TanStack DB-format batch through the tRPC mutation', () => {
  it('appears in every matching subscription with its txid, and awaitTxId resolves in each', async () => {
    const user = randomUUID()
    const seed = newTodo(user, 'seed')
    await app.db.prisma.todo.create({ data: seed })
    const [c1, c2, c3] = [app.client(user), app.client(user), app.client(user)]
    const all = liveShape(c1.todos.sync, {})
    const openOnly = liveShape(c2.todos.sync, { where: { completed: false } })
    const collection = todoCollection(c3)
    const raw = record(c3.todos.sync, {})
    const doneOnly = record(c2.todos.sync, { where: { completed: true } }) // the batch touches none of its rows
    await Promise.all([all.ready, openOnly.ready, collection.preload(), until(() => raw.upToDates > 0 && doneOnly.upToDates > 0, 'first up-to-dates')])

    const added = newTodo(user, 'added')
    const relation: [string, string] = ['public', 'todos']
    const { txid } = await c1.todos.mutate.mutate([
      { type: 'insert', modified: added, syncMetadata: { relation } },
      { type: 'update', original: seed, changes: { title: 'seed!' }, syncMetadata: { relation } },
      { type: 'delete', original: added, syncMetadata: { relation } },
      { type: 'insert', modified: { ...added, id: randomUUID(), title: 'kept' }, syncMetadata: { relation } },
    ])
    await Promise.all([all.awaitTxId(txid), openOnly.awaitTxId(txid), collection.utils.awaitTxId(txid)])

    const expected = await findTodos(app, { ownerId: user })
    expect(expected.map((r) => r.title).sort()).toEqual(['kept', 'seed!'])
    expect(rowsOf(all.rows.values())).toEqual(expected)
    expect(rowsOf(openOnly.rows.values())).toEqual(expected)
    expect(rowsOf(collection.toArray)).toEqual(expected)
    expect(collection.toArray.every((r) => r.$synced)).toBe(true)

    // The changes as the subscription delivered them, each with the mutation's txid.
    await until(() => raw.data().some((e) => 'txids' in e && e.txids.includes(txid)), 'the raw subscription to see the txid')
    const changes = raw.data().flatMap((e) => ('txids' in e && e.txids.includes(txid) ? [[e.type, e.row.title]] : []))
    expect(changes).toEqual([['insert', 'added'], ['update', 'seed!'], ['delete', 'added'], ['insert', 'kept']])
    expect(doneOnly.data().some((e) => 'txids' in e && e.txids.includes(txid))).toBe(false)
    expect(plain(collection.get(seed.id)!)).toEqual({ ...seed, title: 'seed!' })
    all.close()
    openOnly.close()
    raw.stop()
    doneOnly.stop()
  })
})
