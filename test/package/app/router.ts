// The app the README's snippets assume (copied into a fresh app folder by test/package/package.test.ts,
// never compiled in this repository): a Prisma client, a Sync and the router of the tRPC and Writes sections.
import { initTRPC, TRPCError } from '@trpc/server'
import { z } from 'zod'
import { createSync, syncTransformer, tanstackBatch, Writer } from 'trpc-sync'
import { PrismaClient } from './generated/prisma/client.js'

export declare const prisma: PrismaClient
export const sync = createSync({ prisma, databaseUrl: process.env.DATABASE_URL })
export const t = initTRPC.context<{ userId: string | null }>().create({ transformer: syncTransformer })
export const todoSchema = z.object({ title: z.string().min(1) })
const todoFilter = sync.where(prisma.todo, { fields: ['completed', 'title'] })

export const appRouter = t.router({
  todos: t.router({
    sync: t.procedure.input(z.object({ where: todoFilter.optional() })).subscription(
      sync.subscription(({ ctx, input }) => {
        if (!ctx.userId) throw new TRPCError({ code: 'FORBIDDEN' })
        return sync.shape(prisma.todo, { where: { AND: [{ ownerId: ctx.userId }, input.where ?? {}] } })
      }),
    ),
    mutate: t.procedure.input(tanstackBatch).mutation(
      sync.mutation(({ ctx }) => new Writer().allow(prisma.todo, { check: (op) => op.data.ownerId === ctx.userId, validate: todoSchema })),
    ),
  }),
})
export type AppRouter = typeof appRouter
