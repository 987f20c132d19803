// Nothing internal reaches tRPC clients: over real WebSockets (createSyncWSServer, @trpc/client) and over
// tRPC's HTTP adapter (withSafeErrors), errors carry no stack, no file path, no Postgres or Prisma text;
// each has data.requestId, and the server's onError got the original under the same id. A shape Postgres
// refuses is answered once (BAD_REQUEST) and its query run once, while an honest client on the same server
// keeps receiving its changes within a second.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TRPCError, initTRPC } from '@trpc/server'
import { createHTTPHandler } from '@trpc/server/adapters/standalone'
import { TRPCClientError, createTRPCClient, createWSClient, httpLink, wsLink } from '@trpc/client'
import WebSocket from 'ws'
import { z } from 'zod'
import { createSync, createSyncWSServer, requestIdOf, syncTransformer, withSafeErrors, Writer, tanstackBatch, type Sync, type SyncErrorInfo, type SyncWSServer } from '../../src/index.js'
import SuperJSON from 'superjson'
import { clientTransformer, createClientTransformer } from '../../client/index.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { waitFor } from '../support/until.js'
import { tanstack, todo } from '../writer/support.js'

let db: TestDatabase
let sync: Sync
let http: Server
let ws: SyncWSServer
let url: string
const errors: SyncErrorInfo<any>[] = []
const httpErrors: { requestId: string; error: unknown }[] = []
const engineLog: string[] = []

function router(sync: Sync, prisma: TestDatabase['prisma']) {
  const t = initTRPC.create({ transformer: syncTransformer }) // NODE_ENV=test: tRPC's dev mode is on
  return t.router({
    todos: t.procedure.subscription(sync.subscription(() => sync.shape(prisma.todo))),
    // A where only Postgres refuses (a title that is not a number), and a build() that throws.
    cast: t.procedure.subscription(sync.subscription(() => sync.shape({ table: 'todos', where: 'title::int > 0' }))),
    buildBug: t.procedure.subscription(sync.subscription(() => { throw new Error(`db at ${process.cwd()}/src/secret.ts failed`) })),
    query: t.procedure.query(() => { throw new RangeError('Maximum call stack size exceeded') }),
    write: t.procedure.input(tanstackBatch).mutation(sync.mutation(() => new Writer().allow(prisma.todo, {
      preApply: async ({ tx, row }) => {
        if (row.title === 'cast') await tx.$queryRawUnsafe(`SELECT 'abc'::int`)
        if (row.title === 'missing') await tx.$queryRawUnsafe(`SELECT * FROM no_such_table`)
      },
    }))),
    plain: t.procedure.input(z.string()).query(({ input }) => { throw new TRPCError({ code: 'FORBIDDEN', message: `no ${input}` }) }),
  })
}

beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ('00000000-0000-4000-8000-000000000001', 'abc', 'u1')`)
  sync = createSync({
    prisma: db.prisma, databaseUrl: db.url,
    engine: { slotName: `e_${randomBytes(5).toString('hex')}`, temporarySlot: true, log: (m) => engineLog.push(m) },
  })
  const appRouter = router(sync, db.prisma)
  const httpHandler = createHTTPHandler({
    router: withSafeErrors(appRouter), basePath: '/trpc/',
    onError: ({ error }) => httpErrors.push({ requestId: requestIdOf(error), error }),
  })
  http = createServer((req, res) => httpHandler(req, res))
  ws = createSyncWSServer({ router: appRouter, server: http, onError: (info) => errors.push(info) })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  url = `127.0.0.1:${(http.address() as AddressInfo).port}/trpc`
})

afterAll(async () => {
  await ws?.close({ graceMs: 0 })
  http?.closeAllConnections()
  await new Promise((resolve) => http?.close(resolve))
  await sync?.close()
  await db?.drop()
})

type AppRouter = ReturnType<typeof router>

function wsClient() {
  const client = createWSClient({ url: `ws://${url}`, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket })
  return { trpc: createTRPCClient<AppRouter>({ links: [wsLink({ client, transformer: clientTransformer })] }), close: () => client.close() }
}

/** The error a subscription ends with (it must end with one). */
function subscriptionError(subscribe: (handlers: { onError: (e: unknown) => void; onData: () => void }) => { unsubscribe(): void }): Promise<TRPCClientError<AppRouter>> {
  return new Promise((resolve, reject) => {
    const sub = subscribe({
      onError: (error) => { sub.unsubscribe(); resolve(error as TRPCClientError<AppRouter>) },
      onData: () => { sub.unsubscribe(); reject(new Error('expected an error, got data')) },
    })
  })
}

/** What the client got holds nothing internal, and carries the id the server's onError logged the original under. */
function expectSafe(error: TRPCClientError<AppRouter>, hidden: RegExp[]) {
  expect(error).toBeInstanceOf(TRPCClientError)
  const sent = JSON.stringify({ message: error.message, shape: error.shape })
  expect(sent).not.toMatch(/"stack"/)
  expect(sent).not.toMatch(/\/work\/|node_modules|\.ts:\d+/)
  for (const text of hidden) expect(sent).not.toMatch(text)
  const requestId = (error.data as { requestId?: unknown } | undefined)?.requestId
  expect(requestId).toMatch(/^[0-9a-f]{16}$/)
  return requestId as string
}

/** Messages of an error and its causes, as the server has them. */
function causeText(error: unknown): string {
  const parts: string[] = []
  for (let e = error; e instanceof Error; e = e.cause) parts.push(e.message)
  return parts.join(' <- ')
}

describe('over WebSockets (createSyncWSServer)', () => {
  it('a shape Postgres refuses: BAD_REQUEST in our words, answered once, its query run once; an honest client keeps its changes', async () => {
    const honest = wsClient()
    const seen = new Map<string, number>()
    const sub = honest.trpc.todos.subscribe(undefined, {
      onData: (event: any) => { const e = event.data ?? event; if (e.type === 'insert' && !seen.has(e.row.id)) seen.set(e.row.id, Date.now()) },
    })
    await waitFor(() => seen.size === 1, 'the honest snapshot', 15_000)

    const attacker = wsClient()
    const before = errors.length
    const refusedBefore = engineLog.filter((m) => m.includes('Postgres refused its query')).length
    const attacks = Array.from({ length: 5 }, () => subscriptionError((h) => attacker.trpc.cast.subscribe(undefined, h)))
    // Commit-to-client latency of the honest client while the attacker is answered.
    const latencies: number[] = []
    for (let i = 2; i <= 6; i++) {
      const id = `00000000-0000-4000-8000-00000000000${i}`
      const committed = Date.now()
      await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ($1, 'honest', 'u2')`, [id])
      await waitFor(() => seen.has(id), `honest change ${i}`, 5000, 2)
      latencies.push(seen.get(id)! - committed)
    }
    for (const error of await Promise.all(attacks)) {
      expect(error.data?.code).toBe('BAD_REQUEST')
      expect(error.message).toMatch(/not valid for its column type \[SQLSTATE 22P02\]/)
      const requestId = expectSafe(error, [/invalid input syntax/, /"abc"/])
      const logged = errors.find((e) => e.requestId === requestId)
      expect(logged && causeText(logged.error)).toMatch(/invalid input syntax for type integer/)
    }
    expect(Math.max(...latencies)).toBeLessThan(1000)
    // Answered once each, never retried: no more errors and no more refused queries come.
    await new Promise((r) => setTimeout(r, 1500))
    expect(errors.filter((e) => e.path === 'cast').length).toBe(errors.slice(0, before).filter((e) => e.path === 'cast').length + 5)
    const refusedNow = engineLog.filter((m) => m.includes('Postgres refused its query')).length
    expect(refusedNow - refusedBefore).toBeGreaterThanOrEqual(1)
    expect(refusedNow - refusedBefore).toBeLessThanOrEqual(5) // one query per request, none retried
    sub.unsubscribe()
    honest.close()
    attacker.close()
  })

  it('an internal throw in build(): INTERNAL_SERVER_ERROR with the request id only', async () => {
    const client = wsClient()
    const error = await subscriptionError((h) => client.trpc.buildBug.subscribe(undefined, h))
    expect(error.data?.code).toBe('INTERNAL_SERVER_ERROR')
    const requestId = expectSafe(error, [/secret\.ts/, /db at/])
    expect(error.message).toBe(`Internal server error (request ${requestId})`)
    expect(causeText(errors.find((e) => e.requestId === requestId)?.error)).toMatch(/secret\.ts failed/)
    client.close()
  })

  it('Postgres and Prisma errors in a Writer hook: our words, or the request id only', async () => {
    const client = wsClient()
    const cast = await client.trpc.write.mutate([tanstack.insert(todo(10, 'cast'))]).then(() => undefined, (e: unknown) => e as TRPCClientError<AppRouter>)
    expect(cast?.data?.code).toBe('BAD_REQUEST')
    expect(cast!.message).toMatch(/preApply failed for operation 0: a value is not valid for its column type \[SQLSTATE 22P02\]/)
    let requestId = expectSafe(cast!, [/invalid input syntax/, /Invalid `/, /prisma/i])
    expect(causeText(errors.find((e) => e.requestId === requestId)?.error)).toMatch(/invalid input syntax/)

    const missing = await client.trpc.write.mutate([tanstack.insert(todo(11, 'missing'))]).then(() => undefined, (e: unknown) => e as TRPCClientError<AppRouter>)
    expect(missing?.data?.code).toBe('INTERNAL_SERVER_ERROR')
    requestId = expectSafe(missing!, [/no_such_table/, /does not exist/, /prisma/i])
    expect(causeText(errors.find((e) => e.requestId === requestId)?.error)).toMatch(/no_such_table/)
    expect(await db.sql(`SELECT id FROM todos WHERE title IN ('cast', 'missing')`)).toEqual([])
    client.close()
  })

  it('a 20,000-operation batch in a small frame (superjson references): BAD_REQUEST naming batchOperations, nothing written', async () => {
    // The attacker's transformer sends each repeated operation once (~250 KB, under maxPayload); the
    // server's superjson restores all 20,000.
    const client = createWSClient({ url: `ws://${url}`, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket })
    const trpc = createTRPCClient<AppRouter>({ links: [wsLink({ client, transformer: createClientTransformer(new SuperJSON({ dedupe: true })) })] })
    const op = tanstack.insert(todo(20, 'flood'))
    const error = await trpc.write.mutate(Array.from({ length: 20_000 }, () => op)).then(() => undefined, (e: unknown) => e as TRPCClientError<AppRouter>)
    expect(error?.data?.code).toBe('BAD_REQUEST')
    expect(error!.message).toMatch(/20000 operations.*limit batchOperations: 1000/)
    expectSafe(error!, [])
    expect(await db.sql(`SELECT id FROM todos WHERE title = 'flood'`)).toEqual([])
    client.close()
  })

  it('keeps the app\'s own messages for its own codes', async () => {
    const client = wsClient()
    const error = await client.trpc.plain.query('entry').then(() => undefined, (e: unknown) => e as TRPCClientError<AppRouter>)
    expect(error?.data?.code).toBe('FORBIDDEN')
    expect(error!.message).toBe('no entry')
    expectSafe(error!, [])
    client.close()
  })
})

describe('over tRPC\'s HTTP adapter (withSafeErrors)', () => {
  it('sends no stack and no internal message', async () => {
    const client = createTRPCClient<AppRouter>({ links: [httpLink({ url: `http://${url}`, transformer: clientTransformer })] })
    const error = await client.query.query().then(() => undefined, (e: unknown) => e as TRPCClientError<AppRouter>)
    expect(error?.data?.code).toBe('INTERNAL_SERVER_ERROR')
    const requestId = expectSafe(error!, [/Maximum call stack/])
    expect(causeText(httpErrors.find((e) => e.requestId === requestId)?.error)).toMatch(/Maximum call stack/)
  })
})
