// The app the tRPC tests serve: todos per user (the user comes from connectionParams or a cookie), a
// client filter limited to completed/title, a select-narrowed shape, every scalar type, and the
// TanStack-format mutation.
import { TRPCError, initTRPC } from '@trpc/server'
import { z } from 'zod'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { Writer, syncTransformer, tanstackBatch, type Sync, type SubscriptionOptions } from '../../src/index.js'

export interface AppContext {
  userId: string | null
}

export function appRouter(sync: Sync, prisma: PrismaClient, options: SubscriptionOptions = {}) {
  const t = initTRPC.context<AppContext>().create({ transformer: syncTransformer })
  const todoFilter = sync.where(prisma.todo, { fields: ['completed', 'title'] })
  const userOf = (ctx: AppContext) => {
    if (!ctx.userId) throw new TRPCError({ code: 'FORBIDDEN', message: 'log in to sync todos' })
    return ctx.userId
  }
  return t.router({
    todos: t.router({
      sync: t.procedure.input(z.object({ where: todoFilter.optional() })).subscription(sync.subscription(({ ctx, input }) =>
        sync.shape(prisma.todo, { where: { AND: [{ ownerId: userOf(ctx) }, input.where ?? {}] } }), options)),
      titles: t.procedure.subscription(sync.subscription(({ ctx }) =>
        sync.shape(prisma.todo, { where: { ownerId: userOf(ctx) }, select: { id: true, title: true } }), options)),
      mutate: t.procedure.input(tanstackBatch).mutation(sync.mutation(({ ctx }) => {
        const userId = userOf(ctx)
        return new Writer().allow(prisma.todo, {
          check: (op) => op.type !== 'insert' || op.data.ownerId === userId || 'todos are created for yourself',
        })
      })),
    }),
    broken: t.router({
      // A where the shape compiler refuses, and one only Postgres refuses.
      filter: t.procedure.subscription(sync.subscription(() => sync.shape(prisma.todo, { where: { title: { search: 'x' } } as never }), options)),
      sql: t.procedure.subscription(sync.subscription(() => sync.shape({ table: 'todos', where: 'title::int > 1 x' }), options)),
    }),
    allTypes: t.router({
      sync: t.procedure.subscription(sync.subscription(() => sync.shape(prisma.allTypes), options)),
    }),
  })
}

export type AppRouter = ReturnType<typeof appRouter>
