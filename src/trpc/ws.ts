// Serves a router over WebSockets, speaking tRPC's WebSocket protocol (ws-connection.ts: tRPC's own
// procedure calls, a lighter loop per subscription, shared events encoded once): on an existing HTTP
// server (same port, upgrades to `path`) or a port of its own; keep-alive pings; auth from
// `connectionParams` and cookies; flow control per socket; a graceful close that tells clients to
// reconnect (elsewhere, or here once the server is back) and resume from their last event.
import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { TRPCError, type AnyRouter, type inferRouterContext } from '@trpc/server'
import type { CreateWSSContextFnOptions, WSSHandlerOptions } from '@trpc/server/adapters/ws'
import { WebSocketServer } from 'ws'
import { requestIdOf } from '../source/request-id.js'
import { withSafeErrors } from './errors.js'
import { OPEN, withSocket } from './socket.js'
import { connectionHandler, type ConnectionErrorInfo } from './ws-connection.js'

export interface SyncContextOptions extends CreateWSSContextFnOptions {
  /** What the client sent as `connectionParams` (e.g. a token), or null. */
  connectionParams: Record<string, string | undefined> | null
  /** Cookies of the upgrade request. */
  cookies: Record<string, string>
}

export interface SyncWSServerOptions<TRouter extends AnyRouter> {
  router: TRouter
  /** Called once per connection; what it throws (e.g. UNAUTHORIZED) is sent to the client, which is disconnected. */
  createContext?: (opts: SyncContextOptions) => inferRouterContext<TRouter> | Promise<inferRouterContext<TRouter>>
  /** Serve upgrades to `path` on this HTTP server (other upgrades are left to other listeners). */
  server?: HttpServer
  /** Or listen on a port of its own. */
  port?: number
  host?: string
  /** Default `/trpc`. */
  path?: string
  /** Ping a connection quiet for `pingMs` (default 30 s), drop it if no pong in `pongWaitMs` (5 s). `false` turns it off. */
  keepAlive?: { pingMs?: number; pongWaitMs?: number } | false
  /** Largest message a client may send, bytes. Default 1 MiB. */
  maxPayload?: number
  /**
   * Every error of a call, with the request id the client was sent (`data.requestId`) and the original
   * error (its `cause` chain holds what the client is not shown). Default: internal errors are logged
   * with console.error.
   */
  onError?: (info: SyncErrorInfo<TRouter>) => void
  /**
   * Send tRPC's error shapes as the router makes them: `data.stack` in dev mode, an internal error's own
   * message. Default false: stack traces, file paths and database texts stay on the server (see errors.ts).
   */
  exposeStackTraces?: boolean
}

export type SyncErrorInfo<TRouter extends AnyRouter> = Parameters<NonNullable<WSSHandlerOptions<TRouter>['onError']>>[0] & { requestId: string }

export interface SyncWSServer {
  wss: WebSocketServer
  /** Tells every client to open a new connection and move its subscriptions there. */
  broadcastReconnectNotification(): void
  /**
   * Stops accepting connections, tells clients to reconnect, and closes what is still open after
   * `graceMs` (default 3 s) with code 1012 (service restart).
   */
  close(options?: { graceMs?: number }): Promise<void>
}

export function createSyncWSServer<TRouter extends AnyRouter>(options: SyncWSServerOptions<TRouter>): SyncWSServer {
  const path = options.path ?? '/trpc'
  const maxPayload = options.maxPayload ?? 1 << 20
  const { server } = options
  if (!server && options.port === undefined) throw new Error('createSyncWSServer: pass `server` (an HTTP server to share) or `port`')
  const wss = server
    ? new WebSocketServer({ noServer: true, maxPayload })
    : new WebSocketServer({ port: options.port, host: options.host, path, maxPayload })
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathOf(req) !== path) return
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  }
  server?.on('upgrade', onUpgrade)

  const onConnection = connectionHandler<TRouter>({
    router: withSafeErrors(options.router, { exposeStackTraces: options.exposeStackTraces }),
    keepAlive: options.keepAlive === false ? { enabled: false } : { enabled: true, ...options.keepAlive },
    onError: (received: ConnectionErrorInfo) => {
      const info = { ...received, error: tooLarge(received.error, maxPayload) ?? received.error }
      const requestId = requestIdOf(info.error)
      if (options.onError) options.onError({ ...info, requestId } as SyncErrorInfo<TRouter>)
      else if (info.error.code === 'INTERNAL_SERVER_ERROR') console.error(`[trpc-sync] request ${requestId} (${info.path ?? info.type}):`, info.error.cause ?? info.error)
      else if (info.error.code === 'PAYLOAD_TOO_LARGE') console.warn(`[trpc-sync] request ${requestId}: ${info.error.message}`)
    },
    createContext: async (opts) => {
      const ctx = await options.createContext?.({
        ...opts, connectionParams: opts.info.connectionParams, cookies: parseCookies(opts.req.headers.cookie),
      })
      return withSocket(ctx as inferRouterContext<TRouter>, opts.res)
    },
  })
  wss.on('connection', onConnection)
  const broadcastReconnectNotification = () => {
    const notice = JSON.stringify({ id: null, method: 'reconnect' })
    for (const client of wss.clients) if (client.readyState === OPEN) client.send(notice)
  }

  let closing: Promise<void> | undefined
  return {
    wss,
    broadcastReconnectNotification,
    close({ graceMs = 3000 } = {}) {
      return (closing ??= (async () => {
        server?.off('upgrade', onUpgrade)
        const stopped = new Promise<void>((resolve) => wss.close(() => resolve()))
        broadcastReconnectNotification()
        const deadline = Date.now() + graceMs
        while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
        for (const client of wss.clients) client.close(1012, 'server restarting')
        setTimeout(() => { for (const client of wss.clients) client.terminate() }, 1000).unref()
        await stopped
      })())
    },
  }
}

/**
 * `ws`'s error for a frame over maxPayload (it closes the socket with 1009 itself), which tRPC reports
 * as an internal error: the client's fault, said once per connection (createSyncClient does not send
 * it again, client/payload.ts).
 */
function tooLarge(error: TRPCError, maxPayload: number): TRPCError | undefined {
  if ((error.cause as { code?: unknown } | undefined)?.code !== 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return undefined
  const message = `a message larger than maxPayload (${maxPayload} bytes): the connection was closed (1009)`
  return new TRPCError({ code: 'PAYLOAD_TOO_LARGE', message, cause: error.cause })
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/'
  const end = url.indexOf('?')
  return end === -1 ? url : url.slice(0, end)
}

/** `a=1; b=x%20y` → `{ a: '1', b: 'x y' }` (first value wins, undecodable values kept as sent). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = Object.create(null)
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=')
    if (eq === -1) continue
    const name = part.slice(0, eq).trim()
    if (!name || Object.hasOwn(cookies, name)) continue
    let value = part.slice(eq + 1).trim()
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1)
    try {
      cookies[name] = decodeURIComponent(value)
    } catch {
      cookies[name] = value
    }
  }
  return cookies
}
