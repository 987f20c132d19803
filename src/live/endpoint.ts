// sync.attachViews(server): the live views' WebSocket endpoint and the runtime script, beside the app's
// own HTTP server. It takes only upgrades for its path and leaves every other one (tRPC's, say) to
// their handlers; other ws servers on the same HTTP server should use `noServer` the same way.
import { createHash } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { serveConnection } from './connection.js'
import { runtimeSource } from './runtime-script.js'
import type { SessionStore } from './sessions.js'
import type { EventReader } from './view.js'

export interface AttachViewsOptions {
  /** WebSocket path; the runtime is served at `${path}/runtime.js`. Default `/live`. */
  path?: string
  /** Render and read failures of a connection (default: console.error). */
  onError?: (error: unknown) => void
  /** A connection stops reading while more than this many bytes wait to be sent. Default 1 MiB. */
  highWaterBytes?: number
  /** Ping period; a page that has not answered the previous ping is disconnected. Default 30 s. */
  pingIntervalMs?: number
}

export class LiveViewEndpoint {
  readonly path: string
  /** Where the browser runtime is served. */
  readonly runtimePath: string
  /** The page's script tag: loads the runtime, which connects every list marked `data-live-view`. */
  readonly script: string
  private readonly wss = new WebSocketServer({ noServer: true })
  private readonly pingTimer: NodeJS.Timeout
  private readonly unanswered = new WeakSet<WebSocket>()
  private served: Promise<{ body: string; etag: string }> | undefined
  private readonly onError: (error: unknown) => void

  constructor(
    private readonly server: Server | HttpsServer,
    reader: EventReader,
    sessions: SessionStore,
    options: AttachViewsOptions = {},
  ) {
    this.path = options.path ?? '/live'
    this.runtimePath = `${this.path.replace(/\/$/, '')}/runtime.js`
    this.script = `<script type="module" src="${this.runtimePath}"></script>`
    this.onError = options.onError ?? ((error: unknown) => console.error('trpc-sync live view:', error))
    const connection = { onError: this.onError, highWaterBytes: options.highWaterBytes ?? 1 << 20 }
    this.wss.on('connection', (socket) => {
      socket.on('pong', () => this.unanswered.delete(socket))
      serveConnection(socket, reader, sessions, connection)
    })
    server.on('upgrade', this.onUpgrade)
    this.pingTimer = setInterval(() => this.ping(), options.pingIntervalMs ?? 30_000)
    this.pingTimer.unref()
  }

  /**
   * Serves GET `${path}/runtime.js`. Returns false for any other request (calling `next` if given, so
   * it also works as Express/Connect middleware).
   */
  readonly handleRequest = (req: IncomingMessage, res: ServerResponse, next?: () => void): boolean => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || pathname(req.url) !== this.runtimePath) {
      next?.()
      return false
    }
    this.served ??= runtimeSource().then((source) => {
      const body = `${source}\nstartLiveViews({ url: ${JSON.stringify(this.path)} })\n`
      return { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` }
    })
    this.served.then(({ body, etag }) => {
      const headers = { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', etag }
      if (req.headers['if-none-match'] === etag) return void res.writeHead(304, headers).end()
      res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body)
    }, (error: unknown) => {
      this.served = undefined
      this.onError(error)
      res.writeHead(500, { 'content-type': 'text/plain' }).end('live view runtime unavailable')
    })
    return true
  }

  /** Stops taking connections and closes the open ones (their sessions stay until they expire). */
  async close(): Promise<void> {
    this.server.off('upgrade', this.onUpgrade)
    clearInterval(this.pingTimer)
    for (const socket of this.wss.clients) socket.terminate()
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathname(req.url) !== this.path) return
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req))
  }

  private ping(): void {
    for (const socket of this.wss.clients) {
      if (this.unanswered.has(socket)) {
        socket.terminate()
        continue
      }
      this.unanswered.add(socket)
      socket.ping()
    }
  }
}

const pathname = (url: string | undefined): string => new URL(url ?? '/', 'http://localhost').pathname
