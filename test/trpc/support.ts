// A real app for the tRPC tests: a test database, createSync on the embedded engine, the app router
// served on one HTTP server — WebSockets at /trpc (createSyncWSServer) and HTTP/SSE at /trpc/* — and
// real clients over loopback.
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHTTPHandler } from '@trpc/server/adapters/standalone'
import { createTRPCClient, httpSubscriptionLink, splitLink, httpLink } from '@trpc/client'
import WebSocket from 'ws'
import type { SyncLimits } from '../../src/limits/index.js'
import { createSync, createSyncWSServer, parseCookies, type EngineOptions, type Sync, type SyncWSServer, type SubscriptionOptions } from '../../src/index.js'
import { EmbeddedEngine } from '../../src/engine/index.js'
import { fullReplica } from '../../src/sync/sync.js'
import type { Shape } from '../../src/sync/shape.js'
import { createSyncClient, clientTransformer, type SyncClient, type SyncEvent, type TrackedEvent } from '../../client/index.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { appRouter, type AppContext, type AppRouter } from './app.js'
import { TestEventSource } from './event-source.js'
import { waitFor } from '../support/until.js'

export interface TestApp {
  db: TestDatabase
  sync: Sync
  http: Server
  ws: SyncWSServer
  port: number
  /** A WebSocket client for `userId` (sent as connectionParams; `null`: anonymous). */
  client(userId: string | null, options?: { cookie?: string; onClose?: (cause?: { code?: number }) => void }): SyncClient<AppRouter>
  /** An SSE (httpSubscriptionLink) client for `userId`. */
  sseClient(userId: string): ReturnType<typeof createTRPCClient<AppRouter>>
  /** Replaces the WebSocket server on the same HTTP server (a restart of the tRPC layer). */
  restartWs(): Promise<void>
  engine(): Promise<EmbeddedEngine>
  close(): Promise<void>
}

export interface AppOptions {
  subscription?: SubscriptionOptions
  engine?: Partial<EngineOptions>
  limits?: Partial<SyncLimits>
  /** Another Sync (e.g. http mode) instead of the embedded engine. */
  sync?: (db: TestDatabase) => Promise<Sync>
}

export async function startApp(options: AppOptions = {}): Promise<TestApp> {
  const db = await createTestDatabase()
  const sync = options.sync ? await options.sync(db) : createSync({
    prisma: db.prisma,
    databaseUrl: db.url,
    limits: options.limits,
    engine: { slotName: `t_${randomBytes(5).toString('hex')}`, temporarySlot: true, ...options.engine },
  })
  const router = appRouter(sync, db.prisma, options.subscription)
  const contextOf = (connectionParams: Record<string, string | undefined> | null, cookie: string | undefined): AppContext =>
    ({ userId: connectionParams?.userId ?? parseCookies(cookie).user ?? null })
  const httpHandler = createHTTPHandler({
    router,
    basePath: '/trpc/',
    createContext: ({ req, info }) => contextOf(info.connectionParams, req.headers.cookie),
  })
  const http = createServer((req, res) => {
    if (req.url?.startsWith('/trpc/')) return httpHandler(req, res)
    res.writeHead(404).end()
  })
  const serveWs = () => createSyncWSServer({
    router,
    server: http,
    createContext: ({ connectionParams, cookies }) => ({ userId: connectionParams?.userId ?? cookies.user ?? null }),
  })
  let ws = serveWs()
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const port = (http.address() as AddressInfo).port
  const clients: SyncClient<AppRouter>[] = []
  const sseSources = TestEventSource.instances

  return {
    db, sync, http, port,
    get ws() { return ws },
    client(userId, { cookie, onClose } = {}) {
      const WS = cookie === undefined ? WebSocket : class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) { super(url, protocols, { headers: { cookie } }) }
      }
      const client = createSyncClient<AppRouter>({
        url: `ws://127.0.0.1:${port}/trpc`,
        WebSocket: WS as unknown as typeof globalThis.WebSocket,
        connectionParams: userId === null ? undefined : { userId },
        retryDelayMs: () => 50,
        onClose,
      })
      clients.push(client)
      return client
    },
    sseClient(userId) {
      const url = `http://127.0.0.1:${port}/trpc`
      return createTRPCClient<AppRouter>({
        links: [splitLink({
          condition: (op) => op.type === 'subscription',
          true: httpSubscriptionLink({ url, transformer: clientTransformer, EventSource: TestEventSource, connectionParams: { userId } }),
          false: httpLink({ url, transformer: clientTransformer }),
        })],
      })
    },
    async restartWs() {
      await ws.close({ graceMs: 0 })
      ws = serveWs()
    },
    async engine() {
      return (await sync.source()) as EmbeddedEngine
    },
    async close() {
      await Promise.all(clients.map((c) => c.$close()))
      for (const source of [...sseSources]) source.close()
      await ws.close({ graceMs: 0 })
      http.closeAllConnections()
      await new Promise((resolve) => http.close(resolve))
      await sync.close()
      await db.drop()
    },
  }
}

/** The engine's log for a shape (as subscriptions read it), to look at its readers. */
export async function logOf(app: TestApp, shape: Shape<unknown>) {
  return (await app.engine()).shapeLog(fullReplica(shape))
}

export const until = (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) => waitFor(check, what, timeoutMs)

export const byId = <T extends { id: string }>(rows: Iterable<T>) => [...rows].sort((a, b) => a.id.localeCompare(b.id))

/** Waits until `actual()` deep-equals `expected()` (both re-read each time), then returns. */
export async function converges<T>(actual: () => T, expected: () => Promise<T>, what: string): Promise<void> {
  const { isDeepStrictEqual } = await import('node:util')
  await until(async () => isDeepStrictEqual(actual(), await expected()), what)
}

export interface Recording<Row = any> {
  events: TrackedEvent<Row>[]
  readonly error: any
  readonly upToDates: number
  /**
   * The data of every event, in order, as the logical sequence: a change carrying `upToDate` (the wire's
   * one frame for a batch's last change and its up-to-date) as the change, then `{ type: 'up-to-date' }`.
   */
  data(): SyncEvent<Row>[]
  stop(): void
}

/** Whether an event brings the shape up to date: an up-to-date, or a change that carries one. */
export const endsUpToDate = (data: SyncEvent<unknown> | undefined): boolean =>
  data !== undefined && (data.type === 'up-to-date' || ('upToDate' in data && data.upToDate === true))

/** Records every event of a subscription (observer form); `onEvent` runs synchronously on each. */
export function record<Row = any>(
  procedure: { subscribe: (...args: any[]) => any }, input: unknown,
  onEvent?: (event: TrackedEvent<Row>, count: number) => void,
): Recording<Row> {
  const events: TrackedEvent<Row>[] = []
  let error: unknown
  let upToDates = 0
  const subscription = procedure.subscribe(input, {
    onData(event: TrackedEvent<Row>) {
      events.push(event)
      if (endsUpToDate(event.data)) upToDates++
      onEvent?.(event, events.length)
    },
    onError(e: unknown) {
      error = e
    },
  }) as { unsubscribe(): void }
  return {
    events,
    get error() { return error },
    get upToDates() { return upToDates },
    data: () => events.flatMap((e): SyncEvent<Row>[] => {
      if (!('upToDate' in e.data && e.data.upToDate)) return [e.data]
      const { upToDate: _, ...change } = e.data
      return [change as SyncEvent<Row>, { type: 'up-to-date' }]
    }),
    stop: () => subscription.unsubscribe(),
  }
}
