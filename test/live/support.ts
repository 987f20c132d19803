// Live-view test support: a test database with an embedded-engine Sync, an HTTP server with the views'
// endpoint attached, and a Node "page" that applies the server's fragments to a keyed list the way the
// browser runtime does, over a real WebSocket.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import WebSocket from 'ws'
import { createSync, type LiveViewEndpoint, type RenderedView, type ServerMessage, type Sync } from '../../src/index.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { waitFor } from '../support/until.js'

export interface LiveApp {
  db: TestDatabase
  sync: Sync
  http: Server
  endpoint: LiveViewEndpoint
  port: number
  /** Replaces the app's request handler (the endpoint serves its runtime script first). */
  route(handler: (req: IncomingMessage, res: ServerResponse) => void): void
  close(): Promise<void>
}

export async function startLiveApp(): Promise<LiveApp> {
  const db = await createTestDatabase()
  const sync = createSync({
    prisma: db.prisma,
    databaseUrl: db.url,
    engine: { slotName: `t_${randomBytes(5).toString('hex')}`, temporarySlot: true },
  })
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(404).end()
  const http = createServer((req, res) => handler(req, res))
  const endpoint = sync.attachViews(http)
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    db,
    sync,
    http,
    endpoint,
    port: (http.address() as AddressInfo).port,
    route(next) {
      handler = next
    },
    async close() {
      await sync.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await db.drop()
    },
  }
}

/** A page in Node: the rendered list as keys and row HTML, kept live over the view's WebSocket. */
export class NodePage {
  readonly keys: string[]
  readonly rows = new Map<string, string>()
  readonly messages: ServerMessage[] = []
  view: string
  state: string
  private socket: WebSocket | undefined

  constructor(rendered: Pick<RenderedView<unknown>, 'rowsHtml' | 'id' | 'state'>, private readonly url: string) {
    this.view = rendered.id
    this.state = rendered.state
    this.keys = []
    for (const [key, html] of rowsOf(rendered.rowsHtml)) {
      this.keys.push(key)
      this.rows.set(key, html)
    }
  }

  /** Opens the WebSocket and sends the hello; resolves once open. */
  async connect(): Promise<void> {
    const socket = (this.socket = new WebSocket(this.url))
    socket.on('message', (data) => this.apply(JSON.parse(String(data)) as ServerMessage))
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve)
      socket.once('error', reject)
    })
    socket.send(JSON.stringify({ view: this.view, state: this.state }))
  }

  async disconnect(): Promise<void> {
    const socket = this.socket
    if (!socket || socket.readyState === WebSocket.CLOSED) return
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve())
      socket.close()
    })
  }

  /** Resolves when the server closes the socket, with its close code. */
  closed(): Promise<number> {
    return new Promise((resolve) => this.socket!.once('close', (code) => resolve(code)))
  }

  /** Text content of the rows, in page order. */
  texts(): string[] {
    return this.keys.map((key) => this.rows.get(key)!.replace(/<[^>]*>/g, ''))
  }

  ops(): string[] {
    return this.messages.map((m) => m.op)
  }

  private apply(message: ServerMessage): void {
    this.messages.push(message)
    switch (message.op) {
      case 'insert':
      case 'update': {
        const index = this.keys.indexOf(message.key)
        this.rows.set(message.key, message.html)
        if (index !== -1 && message.before === undefined) break
        if (index !== -1) this.keys.splice(index, 1)
        const at = message.before === null || message.before === undefined ? -1 : this.keys.indexOf(message.before)
        this.keys.splice(at === -1 ? this.keys.length : at, 0, message.key)
        break
      }
      case 'delete':
        this.keys.splice(this.keys.indexOf(message.key), 1)
        this.rows.delete(message.key)
        break
      case 'reset':
        this.keys.splice(0)
        this.rows.clear()
        for (const [key, html] of rowsOf(message.html)) {
          this.keys.push(key)
          this.rows.set(key, html)
        }
        break
      case 'session':
        this.view = message.id
        return
      case 'up-to-date':
      case 'expired':
        break
    }
    if ('state' in message) this.state = message.state
  }
}

/** [key, element html] of each row element in a list's HTML (rows are flat `<li>` elements here). */
function rowsOf(html: string): [string, string][] {
  return [...html.matchAll(/<li\b[^>]*\bdata-key="([^"]*)"[^>]*>.*?<\/li>/gs)].map((m) => [unescape(m[1]!), m[0]])
}

const unescape = (text: string) => text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')

export const until = (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) => waitFor(check, what, timeoutMs)
