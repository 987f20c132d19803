// The README's minimal server and client, run from the packed tarball: a tRPC subscription over the
// app's own HTTP server and a Node client holding its rows. Prints the rows it saw, then closes everything:
// the process must exit on its own.
import http from 'node:http'
import WebSocket from 'ws'
import { PrismaPg } from '@prisma/adapter-pg'
import { initTRPC, TRPCError } from '@trpc/server'
import { z } from 'zod'
import { createSync, createSyncWSServer, syncTransformer } from 'trpc-sync'
import { createSyncClient, liveShape } from 'trpc-sync/client'
import { PrismaClient } from './generated/prisma/client.js'

const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) })
const sync = createSync({ prisma, databaseUrl: process.env.DATABASE_URL })
const t = initTRPC.context<{ userId: string | null }>().create({ transformer: syncTransformer })
const todoFilter = sync.where(prisma.todo, { fields: ['completed', 'title'] })

const appRouter = t.router({
  todos: t.router({
    sync: t.procedure.input(z.object({ where: todoFilter.optional() })).subscription(
      sync.subscription(({ ctx, input }) => {
        if (!ctx.userId) throw new TRPCError({ code: 'FORBIDDEN' })
        return sync.shape(prisma.todo, { where: { AND: [{ ownerId: ctx.userId }, input.where ?? {}] } })
      }),
    ),
  }),
})

const server = http.createServer((_req, res) => { res.statusCode = 404; res.end() })
const wss = createSyncWSServer({ router: appRouter, server, createContext: ({ connectionParams }) => ({ userId: connectionParams?.user ?? null }) })
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as { port: number }

const trpc = createSyncClient<typeof appRouter>({ url: `ws://127.0.0.1:${port}/trpc`, connectionParams: { user: 'alice' }, WebSocket })
const todos = liveShape(trpc.todos.sync, { where: { completed: false } })
await todos.ready
const seen = new Promise<void>((resolve) => {
  todos.subscribe((rows) => { if ([...rows.values()].some((row) => row.title === 'from the tarball')) resolve() })
})
await prisma.todo.create({ data: { title: 'from the tarball', ownerId: 'alice' } })
await prisma.todo.create({ data: { title: 'not mine', ownerId: 'bob' } })
await seen
console.log(JSON.stringify({ titles: todos.toArray().map((todo) => todo.title).sort() }))

todos.close()
await trpc.$close()
await wss.close({ graceMs: 0 })
await new Promise((resolve) => server.close(resolve))
await sync.close()
await prisma.$disconnect()
