// Authorization on what is stored: the README's example (`authorize`) against forged TanStack DB
// `original`s, re-owning, keys moved into other rows, composite keys; Phoenix.Sync's scoped `load`;
// and the row lock that keeps a concurrent writer out between authorization and write.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { TRPCError } from '@trpc/server'
import { Writer, WriterError } from '../../src/writer/index.js'
import type { Prisma } from '../../generated/prisma/client.js'
import { waitFor } from '../support/until.js'
import { readmeRouter } from './readme-example.js'
import { seedTodos, tanstack, todo, todoTitles, uid, useDatabase, writerError } from './support.js'

const ctx = useDatabase()
type Tx = Prisma.TransactionClient

async function trpcError(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(TRPCError)
  return error as TRPCError
}

const rows = () => ctx.db.sql('SELECT id, title, owner_id FROM todos ORDER BY id')

describe("the README's Writes example", () => {
  it('is in the README verbatim (and type-checks here)', () => {
    const fixture = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8')
    const block = fixture.slice(fixture.indexOf('// README begin\n') + '// README begin\n'.length, fixture.indexOf('    // README end'))
    const lines = block.split('\n').filter((l) => l.trim() !== '').map((l) => l.slice(2))
    expect(readFileSync(new URL('../../README.md', import.meta.url), 'utf8')).toContain(lines.join('\n'))
  })

  const mine = todo(1, 'mine', 'alice')
  const theirs = todo(2, 'theirs', 'bob')
  const caller = (userId: string) => readmeRouter(ctx.db.prisma).createCaller({ userId })

  it('a plain update and delete (original: { id } plus changes) of your own row work', async () => {
    await seedTodos(ctx.db, mine, theirs)
    await caller('alice').mutate([tanstack.update({ id: uid(1) }, { title: 'mine!' })])
    expect(await todoTitles(ctx.db)).toEqual(['mine!', 'theirs'])
    await caller('alice').mutate([tanstack.delete({ id: uid(1) })])
    expect(await todoTitles(ctx.db)).toEqual(['theirs'])
  })

  it("a forged original cannot update, delete or re-own another user's row", async () => {
    await seedTodos(ctx.db, mine, theirs)
    const before = await rows()
    const forged = { id: uid(2), ownerId: 'alice', title: 'theirs' }
    const attempts = [
      [tanstack.update(forged, { title: 'hijacked' })],
      [tanstack.delete(forged)],
      [tanstack.update(forged, { ownerId: 'alice' })],
      // a harmless first operation: the batch as a whole is refused
      [tanstack.update({ id: uid(1) }, { title: 'fine' }), tanstack.update(forged, { title: 'hijacked' })],
    ]
    for (const batch of attempts) {
      const error = await trpcError(caller('alice').mutate(batch))
      expect(error.code).toBe('FORBIDDEN')
      expect(error.cause).toMatchObject({ step: 'authorize', kind: 'forbidden', operationIndex: batch.length - 1, reason: 'not your todo' })
    }
    expect(await rows()).toEqual(before)
  })

  it('your own row cannot be given to another user, nor a row created for one', async () => {
    await seedTodos(ctx.db, mine, theirs)
    const before = await rows()
    for (const batch of [[tanstack.update({ id: uid(1) }, { ownerId: 'bob' })], [tanstack.insert(todo(3, 'for bob', 'bob'))]]) {
      const error = await trpcError(caller('alice').mutate(batch))
      expect(error.code).toBe('FORBIDDEN')
      expect(error.message).toBe('authorize failed for operation 0: not your todo')
    }
    expect(await rows()).toEqual(before)
  })

  it("a key changed into another user's row is refused and writes nothing", async () => {
    await seedTodos(ctx.db, mine, theirs)
    const before = await rows()
    const error = await trpcError(caller('alice').mutate([tanstack.update({ id: uid(1) }, { id: uid(2), title: 'taken over' })]))
    expect(error.code).toBe('CONFLICT')
    expect(error.cause).toMatchObject({ step: 'write', operationIndex: 0 })
    expect(await rows()).toEqual(before)
  })

  it('unknown tables and fields are BAD_REQUEST naming the operation', async () => {
    await seedTodos(ctx.db, mine)
    const table = await trpcError(caller('alice').mutate([tanstack.update({ id: uid(1) }, { title: 'x' }), tanstack.insert({ id: uid(5) }, 'secrets')]))
    expect(table).toMatchObject({ code: 'BAD_REQUEST', message: 'parse failed for operation 1: writes to table secrets are not allowed' })
    const field = await trpcError(caller('alice').mutate([tanstack.update({ id: uid(1) }, { title: 'x', isAdmin: true })]))
    expect(field).toMatchObject({ code: 'BAD_REQUEST', message: 'parse failed for operation 0: unknown field "isAdmin" on Todo' })
    expect(await todoTitles(ctx.db)).toEqual(['mine'])
  })
})

describe('authorize', () => {
  it('sees the stored row (update, delete) and the row as written (insert, update), in that order', async () => {
    await seedTodos(ctx.db, todo(1, 'one', 'u1'), todo(2, 'two', 'u1'))
    const seen: unknown[] = []
    await new Writer().allow(ctx.db.prisma.todo, {
      authorize: (row, { as, stored, operation }) => {
        seen.push([operation.index, operation.type, as, row.title, stored?.title ?? null])
        return true
      },
    }).apply([
      tanstack.insert(todo(3, 'three')),
      tanstack.update({ id: uid(1), title: 'forged' }, { title: 'one!' }),
      tanstack.delete({ id: uid(2), title: 'forged' }),
    ], ctx.db.prisma)
    expect(seen).toEqual([
      [0, 'insert', 'written', 'three', null],
      [1, 'update', 'stored', 'one', 'one'], [1, 'update', 'written', 'one!', 'one'],
      [2, 'delete', 'stored', 'two', 'two'],
    ])
  })

  it('rejects on false (naming the row), a reason, a throw or a forgotten return', async () => {
    await seedTodos(ctx.db, todo(1))
    const run = (authorize: () => unknown) => writerError(new Writer().allow(ctx.db.prisma.todo, { authorize: authorize as () => boolean })
      .apply([tanstack.delete({ id: uid(1) })], ctx.db.prisma))
    expect(await run(() => false)).toMatchObject({ step: 'authorize', kind: 'forbidden', reason: 'not authorized to delete this Todo row (as stored)' })
    expect(await run(() => 'no')).toMatchObject({ step: 'authorize', kind: 'forbidden', reason: 'no' })
    expect(await run(() => { throw new Error('boom') })).toMatchObject({ step: 'authorize', kind: 'error', reason: 'boom' })
    expect(await run(() => undefined)).toMatchObject({ step: 'authorize', kind: 'forbidden', reason: expect.stringMatching(/return true to accept/) })
    expect(await todoTitles(ctx.db)).toEqual(['todo 1'])
  })

  it('a composite key cannot be moved to another user (memberships)', async () => {
    await ctx.db.sql(`INSERT INTO projects (id, name, owner_id) VALUES ($1, 'p', 'alice')`, [uid(9)])
    await ctx.db.sql(`INSERT INTO memberships (user_id, project_id, role) VALUES ('alice', $1, 'member'), ('bob', $1, 'member')`, [uid(9)])
    const writer = new Writer().allow(ctx.db.prisma.membership, { authorize: (row) => row.userId === 'alice' || 'not your membership' })
    const relation = 'memberships'
    const moved = await writerError(writer.apply([tanstack.update({ userId: 'alice', projectId: uid(9) }, { userId: 'carol' }, relation)], ctx.db.prisma))
    expect(moved).toMatchObject({ step: 'authorize', operationIndex: 0, reason: 'not your membership' })
    const forged = await writerError(writer.apply([tanstack.delete({ userId: 'bob', projectId: uid(9), role: 'alice' }, relation)], ctx.db.prisma))
    expect(forged).toMatchObject({ step: 'authorize', operationIndex: 0 })
    await writer.apply([tanstack.update({ userId: 'alice', projectId: uid(9) }, { role: 'admin' }, relation)], ctx.db.prisma)
    expect(await ctx.db.sql('SELECT user_id, role FROM memberships ORDER BY user_id')).toEqual([
      { user_id: 'alice', role: 'admin' }, { user_id: 'bob', role: 'member' },
    ])
  })

  it('holds the stored row locked: a concurrent writer waits until the batch commits', async () => {
    await seedTodos(ctx.db, todo(1, 'mine', 'alice'))
    let concurrent: Promise<unknown> | undefined
    await new Writer().allow(ctx.db.prisma.todo, {
      authorize: async (row, { as }) => {
        if (as === 'stored') {
          // another connection gives the row away between authorization and write
          concurrent = ctx.db.sql(`UPDATE todos SET owner_id = 'bob', title = title || ' (given away)' WHERE id = $1`, [uid(1)])
          await waitFor(async () => (await ctx.db.sql(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE todos SET owner_id%'`)).length === 1,
            'the concurrent UPDATE to wait for the row lock', 5_000)
        }
        return row.ownerId === 'alice'
      },
    }).apply([tanstack.update({ id: uid(1) }, { title: 'still mine' })], ctx.db.prisma)
    await concurrent
    expect(await rows()).toEqual([{ id: uid(1), title: 'still mine (given away)', owner_id: 'bob' }])
  })
})

describe("Phoenix.Sync's scoped load", () => {
  const scoped = (userId: string) => new Writer<Tx>().allow(ctx.db.prisma.todo, {
    load: (data, { tx }) => tx.todo.findFirst({ where: { id: data.id!, ownerId: userId } }),
  })

  it('a forged original finds nothing (NOT_FOUND) and writes nothing', async () => {
    await seedTodos(ctx.db, todo(1, 'mine', 'alice'), todo(2, 'theirs', 'bob'))
    for (const op of [tanstack.update({ id: uid(2), ownerId: 'alice' }, { title: 'x' }), tanstack.delete({ id: uid(2), ownerId: 'alice' })]) {
      expect(await writerError(scoped('alice').apply([op], ctx.db.prisma))).toMatchObject({ step: 'load', kind: 'not_found', operationIndex: 0 })
    }
    await scoped('alice').apply([tanstack.update({ id: uid(1) }, { title: 'mine!' })], ctx.db.prisma)
    expect(await todoTitles(ctx.db)).toEqual(['mine!', 'theirs'])
  })

  it('a load returning a row with another key than the operation addresses is refused', async () => {
    await seedTodos(ctx.db, todo(1, 'mine', 'alice'), todo(2, 'theirs', 'bob'))
    const error = await writerError(new Writer<Tx>().allow(ctx.db.prisma.todo, {
      load: (_data, { tx }) => tx.todo.findFirst({ where: { ownerId: 'alice' } }),
    }).apply([tanstack.delete({ id: uid(2) })], ctx.db.prisma))
    expect(error).toBeInstanceOf(WriterError)
    expect(error).toMatchObject({ step: 'load', kind: 'forbidden', operationIndex: 0 })
    expect(await todoTitles(ctx.db)).toEqual(['mine', 'theirs'])
  })
})

describe('batch size', () => {
  it('a batch over maxOperations is BAD_REQUEST before the transaction; the default is 1,000', async () => {
    let transactions = 0
    const prisma = { $transaction: ((...args: Parameters<typeof ctx.db.prisma.$transaction>) => { transactions++; return ctx.db.prisma.$transaction(...args) }) as typeof ctx.db.prisma.$transaction }
    const writer = new Writer().allow(ctx.db.prisma.todo)
    const batch = (n: number) => Array.from({ length: n }, (_, i) => tanstack.insert(todo(i + 1)))
    expect(await writerError(writer.apply(batch(3), prisma, { maxOperations: 2 })))
      .toMatchObject({ step: 'parse', kind: 'invalid', operationIndex: undefined, reason: 'the batch has 3 operations, more than the 2 allowed (limit batchOperations: 2)' })
    expect(await writerError(writer.apply({ operations: batch(3).map((m) => ({ type: 'insert', data: m.modified })) }, prisma, { format: 'json', maxOperations: 2 })))
      .toMatchObject({ step: 'parse', reason: expect.stringContaining('more than the 2 allowed') })
    expect(await writerError(writer.apply(batch(1001), prisma))).toMatchObject({ step: 'parse', reason: expect.stringContaining('more than the 1000 allowed') })
    expect(transactions).toBe(0)
    await writer.apply(batch(2), prisma, { maxOperations: 2 })
    expect(transactions).toBe(1)
  })
})
