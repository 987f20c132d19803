// `createSyncClient<AppRouter>({ url, connectionParams })`: a tRPC client over one WebSocket (wsLink +
// the sync transformer), which reconnects on its own and resubscribes each subscription from its last
// tracked event. Works in browsers; Node 20 has no global WebSocket: pass `WebSocket` from `ws`.
// Mutations carrying a batch id are sent again when their answer is lost (retry-link.ts), and
// `$connection` tells whether the client is live, reconnecting or offline (connection.ts). No frame
// larger than the server's `maxPayload` is sent: such a request fails once (payload.ts).
import { createTRPCClient, createWSClient, wsLink, type TRPCClient, type TRPCLink, type WebSocketClientOptions } from '@trpc/client'
import type { AnyTRPCRouter } from '@trpc/server'
import type SuperJSON from 'superjson'
import { clientTransformer } from './transformer.js'
import { batchRetryLink, type BatchRetryLinkOptions } from './retry-link.js'
import { connectionOf, type Connection } from './connection.js'
import { payloadLimited } from './payload.js'

/**
 * A WebSocket class: the browser's, or the `ws` package's default export (whose type differs from the
 * DOM's in details tRPC's client never uses), described by its constructor so no `ws` types are needed.
 */
export type WebSocketConstructor = typeof globalThis.WebSocket | (new (url: string, protocols?: string | string[]) => object)

export interface SyncClientOptions extends Omit<WebSocketClientOptions, 'url' | 'experimental_encoder' | 'WebSocket'> {
  /** `ws://host/trpc` (the server's `createSyncWSServer` path). */
  url: string
  /** Default `globalThis.WebSocket`; on Node 20, pass `WebSocket` from `ws`. */
  WebSocket?: WebSocketConstructor | undefined
  /** Must match the server's transformer; default superjson with Prisma's Decimal. */
  transformer?: SuperJSON
  /**
   * The server's `createSyncWSServer({ maxPayload })`, bytes (default 1 MiB, the server's default). A
   * request larger fails with PAYLOAD_TOO_LARGE without being sent; a server with a lower limit closes
   * the socket at it once, and it fails then.
   */
  maxPayload?: number
  /** How mutations with a batch id are sent again when their answer is lost (default: up to 30 sends). */
  batchRetry?: Omit<BatchRetryLinkOptions, 'isClosed'>
}

export type SyncClient<TRouter extends AnyTRPCRouter> = TRPCClient<TRouter> & {
  /** Closes the WebSocket; subscriptions complete. */
  $close(): Promise<void>
  /** The underlying tRPC WebSocket client (connection state, reconnects). */
  $ws: ReturnType<typeof createWSClient>
  /** Whether the client is live, reconnecting or offline, to show to the user. */
  $connection: Connection
}

export function createSyncClient<TRouter extends AnyTRPCRouter>(options: SyncClientOptions): SyncClient<TRouter> {
  const { transformer = clientTransformer, WebSocket = globalThis.WebSocket, batchRetry, maxPayload = 1 << 20, ...rest } = options
  if (!WebSocket) throw new Error('createSyncClient: no global WebSocket here (Node 20): pass { WebSocket } from the `ws` package')
  const ws = createWSClient({ keepAlive: { enabled: true }, ...rest, WebSocket: payloadLimited(WebSocket, maxPayload, transformer) })
  const link = wsLink({ client: ws, transformer } as Parameters<typeof wsLink>[0]) as TRPCLink<TRouter>
  let closed = false
  const retry = batchRetryLink<TRouter>({ ...batchRetry, isClosed: () => closed })
  const trpc = createTRPCClient<TRouter>({ links: [retry, link] })
  const connection = connectionOf(ws)
  const close = () => {
    closed = true
    connection.close()
    return ws.close()
  }
  return new Proxy(trpc, {
    get(target, key, receiver) {
      if (key === '$close') return close
      if (key === '$ws') return ws
      if (key === '$connection') return connection
      return Reflect.get(target, key, receiver)
    },
  }) as SyncClient<TRouter>
}
