// The README's "Writes" example as an app writes it, type-checked with the suite; the lines between
// the markers must appear verbatim in the README (test/writer/authorize.test.ts checks that).
import { initTRPC } from '@trpc/server'
import { z } from 'zod'
import { Writer, createSync, tanstackBatch } from '../../src/index.js'
import type { PrismaClient } from '../../generated/prisma/client.js'

export function readmeRouter(prisma: PrismaClient) {
  const sync = createSync({ prisma })
  const t = initTRPC.context<{ userId: string | null }>().create()
  const todoSchema = z.object({ title: z.string().min(1) })
  return t.router({
    // README begin
    mutate: t.procedure.input(tanstackBatch).mutation(
      sync.mutation(({ ctx }) =>
        new Writer().allow(prisma.todo, {
          // Each update and delete against the row as stored (locked in the transaction), each insert and
          // update against the row as it will be written: never the client's own `original`.
          authorize: (row) => row.ownerId === ctx.userId || 'not your todo',
          validate: todoSchema,                                   // a zod schema or a function
        }),
      ),
    ),                                                            // resolves to { txid }
    // README end
  })
}
