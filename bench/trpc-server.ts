// The server side of the tRPC benchmarks, in a process of its own so its memory and CPU are its own.
// BENCH_MODE picks what it serves on 127.0.0.1 (port sent to the parent over IPC):
//   sync:   todos.sync = sync.subscription(shape of the user's todos), createSyncWSServer
//   isolation: the same, plus todos.search({ term }) = the todos whose title contains term, with the
//           per-connection and total shape limits raised so one connection can hold 20,000 shapes (bench/isolation.ts)
//   notify: the hand-rolled way — a LISTEN/NOTIFY trigger feeding an EventEmitter, and a stock tRPC
//           subscription per client over node:events `on()` (applyWSSHandler, superjson)
//   floor:  stock tRPC over ws whose subscription holds nothing (the least a subscriber can cost)
//   raw:    a plain `ws` server that broadcasts given frames to groups of clients (the ceiling)
// Messages from the parent: { type: 'memory' } → { memory: rss bytes after gc }, { type: 'broadcast' },
// { type: 'loop-delay' } → { loopDelay: { p99, max } } (ms the event loop was late since the last ask).
// BENCH_HEAP_SNAPSHOT=<dir>: each 'memory' request also writes a heap snapshot there (after the gc).
import { EventEmitter, on } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { initTRPC } from '@trpc/server'
import { applyWSSHandler } from '@trpc/server/adapters/ws'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import superjson from 'superjson'
import { WebSocketServer, type WebSocket } from 'ws'
import { PrismaClient } from '../generated/prisma/client.js'
import { createSync, createSyncWSServer, syncTransformer } from '../src/index.js'

type Message = { type: 'memory' } | { type: 'cpu' } | { type: 'loop-delay' } | { type: 'broadcast'; frames: string[]; ticks: number } | { type: 'exit' }

const mode = process.env.BENCH_MODE
const databaseUrl = process.env.DATABASE_URL!
const http = createServer()
let cleanup: () => Promise<void> = async () => {}

if (mode === 'sync' || mode === 'isolation') {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) })
  const sync = createSync({
    prisma, databaseUrl, engine: { slotName: `bench_${randomBytes(4).toString('hex')}`, temporarySlot: true },
    ...(mode === 'isolation' && { limits: { shapesPerConnection: 20_000, subscriptionsPerConnection: 20_000, shapes: 20_000 } }),
  })
  const t = initTRPC.context<{ userId: string }>().create({ transformer: syncTransformer })
  const router = t.router({
    todos: t.router({
      sync: t.procedure.subscription(sync.subscription(({ ctx }) => sync.shape(prisma.todo, { where: { ownerId: ctx.userId } }))),
      search: t.procedure.input((input) => input as { term: string }).subscription(sync.subscription(({ input }) =>
        sync.shape(prisma.todo, { where: { title: { contains: input.term } } }))),
    }),
  })
  const ws = createSyncWSServer({ router, server: http, createContext: ({ connectionParams }) => ({ userId: connectionParams?.userId ?? '' }) })
  cleanup = async () => {
    await ws.close({ graceMs: 0 })
    await sync.close()
    await prisma.$disconnect()
  }
} else if (mode === 'notify') {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) })
  const listener = new pg.Client({ connectionString: databaseUrl })
  await listener.connect()
  const changes = new EventEmitter()
  changes.setMaxListeners(0)
  listener.on('notification', ({ payload }) => {
    const { op, row } = JSON.parse(payload!) as { op: string; row: { owner_id: string } }
    changes.emit(row.owner_id, { type: op, row })
  })
  await listener.query('LISTEN todo_changes')
  const t = initTRPC.context<{ userId: string }>().create({ transformer: superjson })
  const router = t.router({
    todos: t.router({
      sync: t.procedure.subscription(async function* ({ ctx, signal }) {
        const live = on(changes, ctx.userId, { signal }) // before the query, so nothing is missed
        for (const row of await prisma.todo.findMany({ where: { ownerId: ctx.userId } })) yield { type: 'insert', row }
        yield { type: 'up-to-date' }
        for await (const [event] of live) yield event
      }),
    }),
  })
  const wss = new WebSocketServer({ server: http, path: '/trpc' })
  applyWSSHandler({
    wss, router, keepAlive: { enabled: true },
    createContext: ({ info }) => ({ userId: info.connectionParams?.userId ?? '' }),
  })
  cleanup = async () => {
    for (const client of wss.clients) client.terminate()
    await listener.end()
    await prisma.$disconnect()
  }
} else if (mode === 'floor') {
  const t = initTRPC.context<{ userId: string }>().create({ transformer: superjson })
  const router = t.router({
    todos: t.router({
      sync: t.procedure.subscription(async function* ({ signal }) {
        yield { type: 'up-to-date' }
        await new Promise((resolve) => signal!.addEventListener('abort', resolve))
      }),
    }),
  })
  const wss = new WebSocketServer({ server: http, path: '/trpc' })
  applyWSSHandler({ wss, router, keepAlive: { enabled: true }, createContext: ({ info }) => ({ userId: info.connectionParams?.userId ?? '' }) })
} else if (mode === 'raw') {
  const wss = new WebSocketServer({ server: http, path: '/raw' })
  const groups = new Map<number, Set<WebSocket>>()
  wss.on('connection', (socket, req) => {
    const group = Number(new URL(req.url!, 'http://x').searchParams.get('group'))
    let members = groups.get(group)
    if (!members) groups.set(group, (members = new Set()))
    members.add(socket)
    socket.on('close', () => members.delete(socket))
    socket.send('ready')
  })
  process.on('message', (message: Message) => {
    if (message.type !== 'broadcast') return
    for (let tick = 0; tick < message.ticks; tick++) {
      message.frames.forEach((frame, group) => {
        const text = frame.replace('__TICK__', String(tick))
        for (const socket of groups.get(group) ?? []) socket.send(text)
      })
    }
  })
  cleanup = async () => { for (const client of wss.clients) client.terminate() }
} else {
  throw new Error(`BENCH_MODE must be sync, isolation, notify, floor or raw, not ${mode}`)
}

const loopDelay = monitorEventLoopDelay({ resolution: 1 })
loopDelay.enable()

process.on('message', async (message: Message) => {
  if (message.type === 'loop-delay') {
    process.send!({ loopDelay: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 } })
    loopDelay.reset()
  } else if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send!({ cpu: (user + system) / 1000 })
  } else if (message.type === 'memory') {
    const gc = (globalThis as { gc?: () => void }).gc
    for (let i = 0; i < 3; i++) gc?.()
    if (process.env.BENCH_HEAP_SNAPSHOT) (await import('node:v8')).writeHeapSnapshot(`${process.env.BENCH_HEAP_SNAPSHOT}/${mode}-${process.pid}-${Date.now()}.heapsnapshot`)
    process.send!({ memory: process.memoryUsage().rss })
  } else if (message.type === 'exit') {
    await cleanup().catch(() => {})
    http.closeAllConnections()
    http.close()
    process.exit(0)
  }
})

http.listen(0, '127.0.0.1', () => process.send!({ port: (http.address() as AddressInfo).port }))
