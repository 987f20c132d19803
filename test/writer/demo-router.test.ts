// The demo's todos.mutate enforces its rules on the server: a user changes only their own todos,
// whatever `original` the client sends, and cannot give one away or create one for someone else.
import { describe, expect, it } from 'vitest'
import { TRPCError } from '@trpc/server'
import { createRouter } from '../../demo/router.js'
import { createSync } from '../../src/index.js'
import { seedTodos, tanstack, todo, uid, useDatabase } from './support.js'

const ctx = useDatabase()
const caller = (user: string) => createRouter(createSync({ prisma: ctx.db.prisma }), ctx.db.prisma).createCaller({ user })
const rows = () => ctx.db.sql('SELECT id, title, owner_id, is_completed FROM todos ORDER BY id')

async function code(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(TRPCError)
  return `${(error as TRPCError).code}${(error as TRPCError).code === "FORBIDDEN" ? "" : ` ${(error as Error).message}`}`
}

describe('demo todos.mutate', () => {
  it("refuses forged originals, re-owning and inserts for others; a user's own writes go through", async () => {
    await seedTodos(ctx.db, todo(1, 'alice todo', 'alice'), todo(2, 'bob todo', 'bob'))
    const before = await rows()
    const forged = { id: uid(1), ownerId: 'bob' }
    for (const batch of [
      [tanstack.update(forged, { completed: true, title: 'hijacked' })],
      [tanstack.delete(forged)],
      [tanstack.update({ id: uid(2) }, { ownerId: 'alice', title: 'bob todo' })],
      [tanstack.insert({ id: uid(3), title: 'for alice', completed: false, ownerId: 'alice' })],
    ]) expect(await code(caller('bob').todos.mutate(batch))).toBe('FORBIDDEN')
    expect(await rows()).toEqual(before)

    await caller('bob').todos.mutate([tanstack.update({ id: uid(2) }, { completed: true, title: 'bob todo' }), tanstack.insert({ id: uid(3), title: 'new', completed: false })])
    expect((await rows()).map((r) => [r.title, r.owner_id, r.is_completed])).toEqual([['alice todo', 'alice', false], ['bob todo', 'bob', true], ['new', 'bob', false]])
  })
})
