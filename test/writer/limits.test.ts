// Write batches within limits: `batchOperations` and `batchBytes` from createSync({ limits }) bound what
// sync.mutation accepts (BAD_REQUEST naming the limit, before any transaction); a batch that outlasts the
// transaction's timeout is TIMEOUT and writes nothing; database and Prisma texts never reach the client.
import { describe, expect, it } from 'vitest'
import { TRPCError, initTRPC } from '@trpc/server'
import { z } from 'zod'
import { createSync, Writer, WriterError, type PrismaClientLike, type SyncLimits } from '../../src/index.js'
import { jsonLongerThan } from '../../src/writer/formats/size.js'
import { seedTodos, tanstack, todo, todoTitles, useDatabase } from './support.js'

const ctx = useDatabase()

/** The test database's Prisma client, counting the transactions it is asked to open. */
function countingPrisma(): { prisma: PrismaClientLike; transactions: () => number } {
  let transactions = 0
  const prisma: PrismaClientLike = {
    $transaction: (fn, options) => {
      transactions++
      return ctx.db.prisma.$transaction(fn, options)
    },
  }
  return { prisma, transactions: () => transactions }
}

function router(limits: Partial<SyncLimits>, options: { maxOperations?: number; timeout?: number; hook?: (tx: any) => Promise<unknown> } = {}) {
  const sync = createSync({ prisma: ctx.db.prisma, limits })
  const counting = countingPrisma()
  const t = initTRPC.create()
  const mutate = t.procedure.input(z.unknown()).mutation(sync.mutation(() => new Writer().allow(ctx.db.prisma.todo, {
    preApply: async ({ tx }) => { await options.hook?.(tx) },
  }), { prisma: counting.prisma, maxOperations: options.maxOperations, transaction: options.timeout ? { timeout: options.timeout } : undefined }))
  return { caller: t.router({ mutate }).createCaller({}), transactions: counting.transactions }
}

async function trpcError(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(TRPCError)
  return error as TRPCError
}

const inserts = (n: number, title = (i: number) => `todo ${i}`) => Array.from({ length: n }, (_, i) => tanstack.insert(todo(i + 1, title(i))))

describe('batch limits', () => {
  it('refuses a 90,000-operation batch with BAD_REQUEST naming batchOperations, before any transaction', async () => {
    const { caller, transactions } = router({})
    const error = await trpcError(caller.mutate(inserts(90_000)))
    expect(error.code).toBe('BAD_REQUEST')
    expect(error.message).toMatch(/90000 operations.*limit batchOperations: 1000/)
    expect(transactions()).toBe(0)
    expect(await todoTitles(ctx.db)).toEqual([])
  })

  it('takes batchOperations from createSync({ limits }), and the mutation option over it', async () => {
    const small = router({ batchOperations: 3 })
    expect((await trpcError(small.caller.mutate(inserts(4)))).message).toMatch(/limit batchOperations: 3/)
    expect(small.transactions()).toBe(0)
    await small.caller.mutate(inserts(3))
    expect(await todoTitles(ctx.db)).toHaveLength(3)
    const overridden = router({ batchOperations: 3 }, { maxOperations: 5 })
    await ctx.db.sql('TRUNCATE todos')
    await overridden.caller.mutate(inserts(5))
    expect(await todoTitles(ctx.db)).toHaveLength(5)
  })

  it('refuses a batch over batchBytes with BAD_REQUEST naming it, before any transaction', async () => {
    const { caller, transactions } = router({ batchBytes: 10_000 })
    const error = await trpcError(caller.mutate(inserts(10, () => 'x'.repeat(2000))))
    expect(error.code).toBe('BAD_REQUEST')
    expect(error.message).toMatch(/limit batchBytes: 10000/)
    expect(transactions()).toBe(0)
    await caller.mutate(inserts(10, () => 'x'.repeat(200)))
    expect(await todoTitles(ctx.db)).toHaveLength(10)
  })

  it('counts bytes as JSON text, stopping early, shared subtrees counted each time', () => {
    const value = { a: ['é', 1, null, { b: true }] }
    const length = Buffer.byteLength(JSON.stringify(value))
    expect(jsonLongerThan(value, length)).toBe(false)
    expect(jsonLongerThan(value, length - 1)).toBe(true)
    let shared: unknown = 'leaf'
    for (let i = 0; i < 40; i++) shared = [shared, shared] // 2^40 leaves by reference
    expect(jsonLongerThan(shared, 1 << 20)).toBe(true)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(jsonLongerThan(cyclic, 1000)).toBe(true)
  })
})

describe('a batch that outlasts its transaction', () => {
  it('is TIMEOUT naming transaction.timeout, and writes nothing', async () => {
    await seedTodos(ctx.db, todo(100, 'before'))
    const { caller } = router({}, { timeout: 300, hook: () => new Promise((r) => setTimeout(r, 150)) })
    const error = await trpcError(caller.mutate(inserts(4)))
    expect(error.code).toBe('TIMEOUT')
    expect(error.message).toMatch(/transaction\.timeout/)
    expect(error.cause).toBeInstanceOf(WriterError)
    expect(await todoTitles(ctx.db)).toEqual(['before'])
  })
})

describe('database and Prisma errors in a write', () => {
  it('are told in our words, never in Postgres or Prisma text; the original stays the cause', async () => {
    await seedTodos(ctx.db, todo(1, 'taken'))
    const { caller } = router({})
    const unique = await trpcError(caller.mutate([tanstack.insert(todo(1, 'again'))]))
    expect(unique.code).toBe('CONFLICT')
    expect(unique.message).toMatch(/a row with the same unique key already exists/)
    expect(unique.message).not.toMatch(/Unique constraint failed|duplicate key|todos_pkey.*violates/)

    // A hook's own Prisma call that Prisma refuses: the message names the argument, not Prisma's excerpt.
    const bad = router({}, { hook: (tx) => tx.todo.findMany({ where: { nope: 1 } }) })
    const validation = await trpcError(bad.caller.mutate([tanstack.insert(todo(2))]))
    expect(validation.message).not.toMatch(/\/work\/|node_modules|invocation|→/)
    expect(validation.message).toMatch(/argument "nope"/)

    // A hook's raw query Postgres refuses.
    const raw = router({}, { hook: (tx) => tx.$queryRawUnsafe(`SELECT 'abc'::int`) })
    const refused = await trpcError(raw.caller.mutate([tanstack.insert(todo(3))]))
    expect(refused.message).not.toMatch(/invalid input syntax|"abc"/)
    expect(refused.message).toMatch(/not valid for its column type \[SQLSTATE 22P02\]/)
    expect(await todoTitles(ctx.db)).toEqual(['taken'])
  })

  it('an internal error keeps its text on the server', async () => {
    const { caller } = router({}, { hook: async () => { throw new Error('secret detail at /work/app/src/db.ts:12') } })
    const error = await trpcError(caller.mutate([tanstack.insert(todo(4))]))
    expect(error.code).toBe('INTERNAL_SERVER_ERROR')
    expect(error.message).toBe('preApply failed for operation 0: internal error')
    expect(((error.cause as WriterError).cause as Error).message).toMatch(/secret detail/)
  })
})
