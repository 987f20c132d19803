// Shape subscriptions end to end: real @trpc/client over real WebSockets to createSyncWSServer, on the
// embedded engine over a real Postgres, with writes made in SQL outside the app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveShape } from '../../client/index.js'
import { byId, converges, startApp, type TestApp } from './support.js'

let app: TestApp
beforeAll(async () => {
  app = await startApp()
})
afterAll(async () => {
  await app?.close()
})

const insertTodo = (title: string, ownerId: string, completed = false) =>
  app.db.sql(`INSERT INTO todos (id, title, owner_id, is_completed) VALUES (gen_random_uuid(), $1, $2, $3)`, [title, ownerId, completed])

describe('shape subscriptions', () => {
  it('keeps each client equal to findMany for its user and filter', async () => {
    await insertTodo('a1', 'alice')
    await insertTodo('a2 done', 'alice', true)
    await insertTodo('b1', 'bob')
    const alice = app.client('alice')
    const bob = app.client('bob')
    const aliceAll = liveShape(alice.todos.sync, {})
    const aliceOpen = liveShape(alice.todos.sync, { where: { completed: false } })
    const aliceSearch = liveShape(alice.todos.sync, { where: { title: { contains: 'DONE', mode: 'insensitive' } } })
    const bobAll = liveShape(bob.todos.sync, {})
    const cases = [
      { live: aliceAll, where: { ownerId: 'alice' } },
      { live: aliceOpen, where: { ownerId: 'alice', completed: false } },
      { live: aliceSearch, where: { ownerId: 'alice', title: { contains: 'done', mode: 'insensitive' as const } } },
      { live: bobAll, where: { ownerId: 'bob' } },
    ]
    await Promise.all(cases.map((c) => c.live.ready))
    for (const { live, where } of cases) expect(byId(live.rows.values())).toEqual(byId(await app.db.prisma.todo.findMany({ where })))

    await insertTodo('a3', 'alice')
    await insertTodo('b2 done', 'bob', true)
    await app.db.sql(`UPDATE todos SET is_completed = true WHERE title = 'a1'`) // moves out of aliceOpen
    await app.db.sql(`UPDATE todos SET title = 'a2 DONE!' WHERE title = 'a2 done'`)
    await app.db.sql(`DELETE FROM todos WHERE title = 'b1'`)
    for (const { live, where } of cases) {
      await converges(() => byId(live.rows.values()), async () => byId(await app.db.prisma.todo.findMany({ where })), 'rows to follow SQL writes')
    }
    for (const { live } of cases) live.close()
  })
})
