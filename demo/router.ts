// The demo's tRPC router: a shared team todo list. `todos.sync` streams everyone's todos (clients may
// narrow them with safe filters), `todos.mutate` applies TanStack DB-format write batches to the user's
// own todos and returns the txid.
import { initTRPC, TRPCError } from '@trpc/server'
import { z } from 'zod'
import { Writer, syncTransformer, tanstackBatch, type Sync } from '../src/index.js'
import type { PrismaClient } from '../generated/prisma/client.js'

export interface DemoContext {
  /** The connection's user: from connectionParams or the `user` cookie, else the demo user. */
  user: string
}

const t = initTRPC.context<DemoContext>().create({ transformer: syncTransformer })

const newTodo = z.object({ id: z.uuid(), title: z.string().trim().min(1).max(200), completed: z.boolean() })

export function createRouter(sync: Sync, prisma: PrismaClient) {
  const todoFilter = sync.where(prisma.todo, { fields: ['completed', 'title', 'ownerId'] })
  return t.router({
    todos: t.router({
      sync: t.procedure
        .input(z.object({ where: todoFilter.optional() }).optional())
        .subscription(sync.subscription(({ input }) => sync.shape(prisma.todo, { where: input?.where ?? {} }))),
      mutate: t.procedure.input(tanstackBatch).mutation(
        sync.mutation(({ ctx }) =>
          new Writer().allow(prisma.todo, {
            // Decided on the rows in the database, never on the client's `original`: each update and delete
            // against the stored row, each insert and update against the row as it will be written. Everyone
            // sees the team's list; only your own todos are yours to change, and none can be given away.
            authorize: (row) => (row.ownerId ?? ctx.user) === ctx.user || `${row.ownerId}'s todos are read-only for ${ctx.user}`,
            insert: {
              // The client sends id, title and completed; the server fills in the rest.
              preApply: ({ operation }) => {
                operation.data.ownerId = ctx.user
              },
              validate: (row) => newTodo.safeParse({ id: row.id, title: row.title, completed: row.completed ?? false }).success || 'a todo needs an id (uuid), a title and completed',
            },
            update: {
              validate: (row) => typeof row.title === 'string' && row.title.trim().length > 0 || 'a todo needs a title',
            },
          }),
        ),
      ),
    }),
    whoami: t.procedure.query(({ ctx }) => {
      if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED' })
      return ctx.user
    }),
  })
}

export type AppRouter = ReturnType<typeof createRouter>
