// Helpers for endpoint tests: handlers mounted on real node:http servers, a Sync on a test database,
// Electric's client reading until a condition holds, and a fetch wrapper that records every response.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Shape as ElectricShape, ShapeStream, type Row, type ShapeStreamOptions } from '@electric-sql/client'
import { createSync, type Sync, type SyncOptions } from '../../src/sync/sync.js'
import type { FetchShapeHandler } from '../../src/http/fetch.js'
import type { TestDatabase } from '../support/db.js'

export interface Mounted {
  url: string
  close(): Promise<void>
}

/** A node:http server that sends every request to `handler`. */
export async function mount(handler: (req: IncomingMessage, res: ServerResponse) => unknown): Promise<Mounted> {
  const server = createServer((req, res) => void handler(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A fetch handler behind a node:http server (what Next.js or Hono do in front of one). */
export function fromFetch(handler: FetchShapeHandler) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const controller = new AbortController()
    res.on('close', () => controller.abort())
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const headers = new Headers()
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value)
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method, headers, signal: controller.signal,
      body: chunks.length && req.method !== 'GET' && req.method !== 'HEAD' ? Buffer.concat(chunks) : undefined,
    })
    const response = await handler(request)
    res.writeHead(response.status, Object.fromEntries(response.headers))
    if (!response.body) return res.end()
    const reader = response.body.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        res.write(value)
      }
    } catch {
      // client gone
    }
    res.end()
  }
}

export function testSync(db: TestDatabase, engine: Record<string, unknown> = {}, options: Partial<SyncOptions> = {}): Sync {
  return createSync({
    prisma: db.prisma,
    databaseUrl: db.url,
    engine: { slotName: `http_${randomBytes(5).toString('hex')}`, temporarySlot: true, ...engine },
    ...options,
  } as SyncOptions)
}

export interface Recorded {
  url: URL
  method: string
  status: number
  headers: Headers
  body?: string
}

/** A fetch that records each request and response (bodies of non-streaming responses only). */
export function recordingFetch(log: Recorded[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init)
    const entry: Recorded = {
      url: new URL(input instanceof Request ? input.url : input.toString()),
      method: init?.method ?? 'GET',
      status: response.status,
      headers: response.headers,
    }
    log.push(entry)
    if (response.headers.get('content-type')?.startsWith('text/event-stream') || !response.body) return response
    const body = await response.text()
    entry.body = body
    return new Response(response.status === 304 || response.status === 204 ? null : body, {
      status: response.status, statusText: response.statusText, headers: response.headers,
    })
  }
}

/** Electric's `Shape` over a `ShapeStream` on `url`, with a way to wait for its rows to satisfy a check. */
export class ClientShape<T extends Row<unknown> = Row> {
  readonly stream: ShapeStream<T>
  readonly shape: ElectricShape<T>
  private readonly controller = new AbortController()
  readonly requests: Recorded[] = []
  errors: unknown[] = []

  constructor(url: string, options: Partial<ShapeStreamOptions<T>> = {}) {
    this.stream = new ShapeStream<T>({
      url, signal: this.controller.signal, fetchClient: recordingFetch(this.requests),
      onError: (error) => {
        this.errors.push(error)
      },
      ...options,
    } as ShapeStreamOptions<any>)
    this.shape = new ElectricShape(this.stream)
  }

  get rows(): T[] {
    return this.shape.currentRows
  }

  /** Resolves once `check(rows)` holds after an up-to-date. */
  async until(check: (rows: T[]) => boolean, timeoutMs = 15_000): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off()
        const requests = this.requests.map((r) => `${r.status} ${r.url.search} ${r.body?.slice(0, 300) ?? ''}`).join('\n')
        reject(new Error(`timed out; rows: ${JSON.stringify(this.rows, bigintJson).slice(0, 500)}; errors: ${this.errors}\n${requests}`))
      }, timeoutMs)
      const test = (rows: T[]) => {
        if (!check(rows)) return
        clearTimeout(timer)
        off()
        resolve(rows)
      }
      const off = this.shape.subscribe(({ rows }) => test(rows))
      if (this.shape.isUpToDate) test(this.rows)
    })
  }

  close(): void {
    this.controller.abort()
    this.stream.unsubscribeAll()
  }
}

export const bigintJson = (_: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)

export const uuid = (n: number): string => `00000000-0000-0000-0000-${n.toString().padStart(12, '0')}`

export interface SpawnedServer {
  url: string
  /** Everything the process printed. */
  output(): string
  stop(): Promise<void>
}

/** The standalone server (src/http/cli.ts) in a second process, run with tsx. */
export async function spawnShapeServer(env: Record<string, string>): Promise<SpawnedServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/http/cli.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000)
    const check = () => {
      const match = / at (http:\/\/\S+)\/v1\/shape/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout.on('data', check)
    void exited.then(() => reject(new Error(`server exited:\n${output}`)))
  })
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
