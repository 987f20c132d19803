// The Writer behind real tRPC v11 mutation procedures (createCaller), the error → code mapping, and `transact`.
import { describe, expect, expectTypeOf, it } from 'vitest'
import { TRPCError, initTRPC } from '@trpc/server'
import { z } from 'zod'
import { Writer, WriterError, jsonBatch, tanstackBatch, transact, writerMutation, type TanstackBatch, type TransactOperation } from '../../src/writer/index.js'
import type { Prisma } from '../../generated/prisma/client.js'
import { seedTodos, tanstack, todo, todoTitles, uid, useDatabase, writerError } from './support.js'

const ctx = useDatabase()
type Tx = Prisma.TransactionClient

function appRouter() {
  const { db } = ctx
  const t = initTRPC.context<{ userId: string }>().create()
  const mutation = writerMutation({ prisma: db.prisma })
  const todoWriter = ({ ctx }: { ctx: { userId: string } }) => new Writer<Tx>().allow(db.prisma.todo, {
    accept: ['insert', 'update', 'delete'],
    check: (op) => op.type !== 'insert' || op.data.ownerId === ctx.userId || 'todos are created for yourself',
    load: (data, { tx }) => tx.todo.findFirst({ where: { id: data.id!, ownerId: ctx.userId } }),
    validate: z.object({ title: z.string().min(1) }),
    postApply: ({ row }) => {
      if (row.title === 'explode') throw new Error('hook bug')
      if (row.title === 'unauthorized') throw new TRPCError({ code: 'UNAUTHORIZED', message: 'log in again' })
    },
  })
  return t.router({
    todos: t.router({
      mutate: t.procedure.input(tanstackBatch).mutation(mutation(todoWriter)),
      mutateJson: t.procedure.input(jsonBatch).mutation(writerMutation({ prisma: db.prisma, format: 'json' })(todoWriter)),
      // input left to the Writer, so malformed batches surface as WriterErrors
      mutateAny: t.procedure.input(z.unknown()).mutation(mutation(todoWriter)),
      insertOnly: t.procedure.input(tanstackBatch).mutation(mutation(({ ctx, input }) => {
        // context and input are inferred from the procedure
        expectTypeOf(ctx).toEqualTypeOf<{ userId: string }>()
        expectTypeOf(input).toEqualTypeOf<TanstackBatch>()
        return new Writer().allow(db.prisma.todo, { accept: ['insert'] })
      })),
      perRequestClient: t.procedure.input(tanstackBatch).mutation(writerMutation<{ userId: string }>({
        prisma: ({ ctx }) => { seenUsers.push(ctx.userId); return db.prisma },
      })(() => new Writer().allow(db.prisma.todo))),
    }),
  })
}
const seenUsers: string[] = []

async function trpcError(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(TRPCError)
  return error as TRPCError
}

describe('writerMutation', () => {
  it('applies the input and resolves to { txid } (typed)', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1, 'mine', 'u1'))
    const caller = appRouter().createCaller({ userId: 'u1' })
    const result = await caller.todos.mutate([tanstack.insert(todo(2, 'new', 'u1')), tanstack.update({ id: uid(1) }, { title: 'mine!' })])
    expectTypeOf(result).toEqualTypeOf<{ txid: number }>()
    expect(Object.keys(result)).toEqual(['txid'])
    expect((await db.sql('SELECT xmin::text FROM todos WHERE id = $1', [uid(2)]))[0].xmin).toBe(String(result.txid))
    await caller.todos.mutateJson({ operations: [{ type: 'delete', table: 'todos', data: { id: uid(2) } }] })
    expect(await todoTitles(db)).toEqual(['mine!'])
  })

  it('chooses the client per request when prisma is a function', async () => {
    seenUsers.length = 0
    await appRouter().createCaller({ userId: 'u7' }).todos.perRequestClient([tanstack.insert(todo(1, 't', 'u7'))])
    expect(seenUsers).toEqual(['u7'])
  })

  const cases: [code: TRPCError['code'], step: string, index: number | undefined, batch: unknown][] = [
    ['BAD_REQUEST', 'parse', undefined, []],
    ['BAD_REQUEST', 'parse', undefined, { operations: [] }],
    ['BAD_REQUEST', 'parse', 0, [{ type: 'upsert', modified: {} }]],
    ['BAD_REQUEST', 'parse', 1, [tanstack.insert(todo(5)), tanstack.insert({ id: uid(6), name: 'p' }, 'projects')]],
    ['BAD_REQUEST', 'parse', 0, [tanstack.insert({ ...todo(5), colour: 'red' })]],
    ['BAD_REQUEST', 'validate', 0, [tanstack.insert(todo(5, ''))]],
    ['BAD_REQUEST', 'primaryKey', 0, [tanstack.update({ title: 'no key' }, { title: 'x' })]],
    ['FORBIDDEN', 'check', 1, [tanstack.insert(todo(5)), tanstack.insert(todo(6, 'theirs', 'u2'))]],
    ['NOT_FOUND', 'load', 0, [tanstack.update({ id: uid(2) }, { title: 'not mine' })]],
    ['CONFLICT', 'write', 1, [tanstack.insert(todo(5)), tanstack.insert(todo(1, 'same id'))]],
    ['INTERNAL_SERVER_ERROR', 'postApply', 0, [tanstack.insert(todo(5, 'explode'))]],
    ['UNAUTHORIZED', 'postApply', 0, [tanstack.insert(todo(5, 'unauthorized'))]],
  ]
  it.each(cases)('%s for a %s failure (operation %s)', async (code, step, index, batch) => {
    const { db } = ctx
    await seedTodos(db, todo(1, 'mine', 'u1'), todo(2, 'theirs', 'u2'))
    const error = await trpcError(appRouter().createCaller({ userId: 'u1' }).todos.mutateAny(batch))
    expect(error.code).toBe(code)
    expect(error.cause).toBeInstanceOf(WriterError)
    const cause = error.cause as WriterError
    expect(cause).toMatchObject({ step, operationIndex: index })
    // An internal error's text stays on the server (in the cause); the client is told the step.
    expect(error.message).toBe(code === 'INTERNAL_SERVER_ERROR' ? `${step} failed for operation ${index}: internal error` : cause.message)
    expect(error.message).toMatch(new RegExp(`^${step} failed for ${index === undefined ? 'batch' : `operation ${index}`}: `))
    expect(await todoTitles(db)).toEqual(['mine', 'theirs'])
  })

  it('FORBIDDEN for an operation type outside accept', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1))
    const error = await trpcError(appRouter().createCaller({ userId: 'u1' }).todos.insertOnly([tanstack.delete({ id: uid(1) })]))
    expect(error.code).toBe('FORBIDDEN')
    expect(error.message).toBe('accept failed for operation 0: delete is not accepted for public.todos (accepts insert)')
  })

  it('an input that fails the format schema is refused by tRPC itself (BAD_REQUEST)', async () => {
    const error = await trpcError(appRouter().createCaller({ userId: 'u1' }).todos.mutate({ not: 'a batch' } as never))
    expect(error.code).toBe('BAD_REQUEST')
  })
})

describe('transact', () => {
  const batch = [
    tanstack.insert(todo(98, 'New todo'), ['public', 'todos_local']),
    tanstack.delete({ id: uid(2) }, ['public', 'todos_local']),
    tanstack.update({ id: uid(1), title: 'First todo' }, { title: 'Changed title' }, ['public', 'todos_local']),
  ]

  it('calls back once per operation, in order, inside one transaction, and returns its txid (Phoenix.Sync "supports any unparsed mutation data")', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1, 'First todo'), todo(2))
    const seen: TransactOperation[] = []
    const { txid } = await transact(batch, db.prisma, async (op, tx) => {
      seen.push(op)
      expectTypeOf(tx.todo.create).toBeFunction()
      const id = op.data.id as string
      if (op.type === 'insert') await tx.todo.create({ data: { id, title: op.data.title as string, ownerId: op.data.ownerId as string } })
      if (op.type === 'update') await tx.todo.update({ where: { id }, data: { title: op.changes!.title as string } })
      if (op.type === 'delete') await tx.todo.delete({ where: { id } })
    })
    expect(seen.map((op) => [op.index, op.type, op.table, op.data.id])).toEqual([
      [0, 'insert', ['public', 'todos_local'], uid(98)], [1, 'delete', ['public', 'todos_local'], uid(2)], [2, 'update', ['public', 'todos_local'], uid(1)],
    ])
    expect(seen[2]!.changes).toEqual({ title: 'Changed title' })
    expect(await todoTitles(db)).toEqual(['Changed title', 'New todo'])
    expect((await db.sql('SELECT xmin::text FROM todos WHERE id = $1', [uid(98)]))[0].xmin).toBe(String(txid))
  })

  it('a throwing callback rolls everything back (Phoenix.Sync ":error tuples rollback the transaction")', async () => {
    const { db } = ctx
    const error = await writerError(transact(batch, db.prisma, async (op, tx) => {
      if (op.index === 1) throw new Error('reject')
      await tx.todo.create({ data: { id: op.data.id as string, title: 'x', ownerId: 'u1' } })
    }))
    expect(error).toMatchObject({ step: 'write', operationIndex: 1, reason: 'reject' })
    expect(await todoTitles(db)).toEqual([])
  })

  it('parse errors reject before the transaction (Phoenix.Sync "parse errors return an error tuple")', async () => {
    const { db } = ctx
    let called = false
    const error = await writerError(transact([], db.prisma, () => { called = true }, { format: () => { throw new Error('no') } }))
    expect(error).toMatchObject({ step: 'parse', reason: 'no' })
    expect(called).toBe(false)
    expect(await writerError(transact({ operations: [] }, db.prisma, () => {}, { format: 'json' }))).toMatchObject({ reason: 'the batch has no operations' })
  })
})
