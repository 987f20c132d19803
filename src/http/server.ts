// A standalone Electric-compatible sync service over any ShapeSource (`startShapeServer`: the embedded
// engine, the one place http/ composes with it): `/v1/shape` where the client names the table and where
// clause, guarded by a secret; `/v1/health`; shape DELETE when enabled. Electric's clients and tooling
// can point at it unchanged.
import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { EmbeddedEngine, type EngineOptions } from '../engine/index.js'
import { LimitError, resolveLimits, type SyncLimits } from '../limits/index.js'
import { ShapeError } from '../shape/errors.js'
import type { ShapeSource } from '../source/source.js'
import { Shape } from '../sync/shape.js'
import { handleShapeRequest, type EndpointContext } from './handler.js'
import { nodeRequest, sendNode } from './node.js'
import type { ShapeHandlerOptions } from './options.js'
import { requestIdOf } from '../source/request-id.js'
import { corsHeaders, errorBody, errorResponse, internalError, invalidRequest, SERVER_HEADER, type HttpResult } from './response.js'
import { shapeFromParams } from './shape-params.js'

/** What shape DELETE needs from a source (the embedded engine has it). */
export interface ShapeAdmin {
  existingHandle(definition: Shape['definition'] & { changesOnly?: boolean }): Promise<string | undefined>
  rotate(match: { handle: string }): number
}

export interface ShapeServerOptions extends ShapeHandlerOptions {
  /** The source, or how to start it (retried on the next request if it fails; health says `starting` meanwhile). */
  source: ShapeSource | (() => Promise<ShapeSource>)
  /** Every /v1/shape request must carry `secret=<this>` (Electric's ELECTRIC_SECRET); none = insecure. */
  secret?: string
  /** Allow `DELETE /v1/shape` (Electric's ELECTRIC_ENABLE_INTEGRATION_TESTING). */
  allowShapeDeletion?: boolean
  /** Limits on the clients' shapes (whereBytes, shapeParams; see README "Limits"); unset ones keep their defaults. */
  limits?: Partial<SyncLimits>
}

const shapeMethods = 'GET, POST, HEAD, DELETE, OPTIONS'

export function createShapeServer(options: ShapeServerOptions): Server {
  const source = sourceTracker(options.source)
  const limits = resolveLimits(options.limits)
  const ctx: EndpointContext = { source: source.get, options, methods: shapeMethods, shapeFromUrl: true }
  return createServer((req, res) => {
    serve(req, res).catch((error) => {
      const requestId = requestIdOf(error)
      options.onError?.(error, { requestId })
      if (!res.headersSent) void sendNode(res, internalError(requestId))
      else res.destroy()
    })
  })

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) controller.abort()
    })
    const request = nodeRequest(req, controller.signal)
    const path = request.url.pathname.replace(/\/+$/, '') || '/'
    const method = request.method.toUpperCase()
    const readOnly = method === 'GET' || method === 'HEAD'
    const cors = corsHeaders(request.header('origin'), options.cors ?? true, 'GET, HEAD')
    const base = { 'electric-server': SERVER_HEADER }
    let result: HttpResult
    if (path === '/v1/shape') {
      if (method !== 'OPTIONS' && !authorized(request.url.searchParams, options.secret)) {
        result = { status: 401, headers: { ...base, 'content-type': 'application/json' }, body: '{"message":"Unauthorized - Invalid API secret"}' }
      } else if (method === 'DELETE') {
        result = withHeaders(await deleteShape(request.url.searchParams), { ...base, ...corsHeaders(request.header('origin'), options.cors ?? true, shapeMethods) })
      } else {
        result = await handleShapeRequest(ctx, request, request, (r) => new Shape(shapeFromParams(r.url.searchParams, limits), undefined))
      }
    } else if (path === '/v1/health' && readOnly) {
      const status = source.status()
      result = {
        status: status === 'active' ? 200 : 202,
        headers: { ...base, ...cors, 'content-type': 'application/json', 'cache-control': 'no-cache, no-store, must-revalidate' },
        body: JSON.stringify({ status }),
      }
    } else if (path === '/' && readOnly) {
      result = { status: 200, headers: { ...base, ...cors }, body: '' }
    } else {
      result = { status: 404, headers: { ...base, ...cors }, body: 'Not found' }
    }
    await sendNode(res, result, options.onError)
  }

  async function deleteShape(query: URLSearchParams): Promise<HttpResult> {
    const deleted = await removeShape(query, limits)
    return { ...deleted, headers: { ...deleted.headers, 'cache-control': 'no-cache' } }
  }

  async function removeShape(query: URLSearchParams, limits: Readonly<SyncLimits>): Promise<HttpResult> {
    const admin = options.allowShapeDeletion ? adminOf(await source.get().catch(() => undefined)) : undefined
    if (!admin) return errorBody(405, { message: 'DELETE not allowed' })
    const handle = query.get('handle') || undefined
    if (!query.get('table')) {
      if (!handle) return invalidRequest({ handle: ["can't be blank when shape definition is missing"] })
      return admin.rotate({ handle }) > 0 ? { status: 202, headers: {} } : errorBody(404, { message: 'No existing shape found' })
    }
    let definition
    try {
      definition = { ...shapeFromParams(query, limits), changesOnly: query.get('log') === 'changes_only' }
    } catch (error) {
      if (error instanceof ShapeError || error instanceof LimitError) return errorResponse(error).result
      throw error
    }
    const existing = await admin.existingHandle(definition)
    if (!existing) return errorBody(404, { message: 'No existing shape found' })
    if (handle && handle !== existing) {
      return errorBody(400, {
        message: 'The specified shape definition and handle do not match. Please ensure the shape definition is correct or omit the shape handle from the request to obtain a new one.',
      })
    }
    admin.rotate({ handle: existing })
    return { status: 202, headers: {} }
  }
}

function withHeaders(result: HttpResult, headers: Record<string, string>): HttpResult {
  return { ...result, headers: { ...headers, ...result.headers } }
}

function authorized(query: URLSearchParams, secret: string | undefined): boolean {
  if (secret === undefined) return true
  const given = query.get('secret') ?? query.get('api_secret')
  if (given === null) return false
  const a = Buffer.from(given)
  const b = Buffer.from(secret)
  return a.length === b.length && timingSafeEqual(a, b)
}

function adminOf(source: ShapeSource | undefined): ShapeAdmin | undefined {
  const candidate = source as Partial<ShapeAdmin> | undefined
  return typeof candidate?.existingHandle === 'function' && typeof candidate.rotate === 'function' ? (candidate as ShapeAdmin) : undefined
}

/** The source, started once (again after a failure), and its health for `/v1/health`. */
function sourceTracker(source: ShapeServerOptions['source']) {
  let pending: Promise<ShapeSource> | undefined
  let state: 'starting' | 'active' | 'waiting' = 'starting'
  return {
    get(): Promise<ShapeSource> {
      if (typeof source !== 'function') {
        state = 'active'
        return Promise.resolve(source)
      }
      if (!pending) {
        state = state === 'waiting' ? 'waiting' : 'starting'
        const started = source()
        pending = started
        started.then(() => { state = 'active' }, () => {
          state = 'waiting'
          if (pending === started) pending = undefined
        })
      }
      return pending
    },
    status(): 'starting' | 'active' | 'waiting' {
      if (typeof source !== 'function') return 'active'
      if (!pending && state !== 'waiting') void this.get().catch(() => {})
      return state
    },
  }
}

export interface StartShapeServerOptions extends Omit<ShapeServerOptions, 'source'> {
  databaseUrl: string
  port?: number
  host?: string
  engine?: Omit<EngineOptions, 'databaseUrl'>
}

export interface RunningShapeServer {
  server: Server
  /** `http://host:port` */
  url: string
  close(): Promise<void>
}

/** Starts the embedded engine and the server on `port` (0 = any free port). */
export async function startShapeServer(options: StartShapeServerOptions): Promise<RunningShapeServer> {
  const { databaseUrl, port = 3000, host, engine: engineOptions, ...rest } = options
  let engine: Promise<EmbeddedEngine> | undefined
  // The engine's shape logs live in memory, so a slot kept after close would only make Postgres retain WAL
  // until the server returns (which then refetches everything anyway): it is dropped unless asked otherwise.
  const temporarySlot = engineOptions?.temporarySlot ?? true
  const start = () => (engine ??= EmbeddedEngine.start({ ...engineOptions, temporarySlot, databaseUrl }).catch((error) => {
    engine = undefined
    throw error
  }))
  const server = createShapeServer({ ...rest, source: start })
  void start().catch((error) => rest.onError?.(error, { requestId: requestIdOf(error) }))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const shownHost = address.family === 'IPv6' ? `[${address.address === '::' ? '::1' : address.address}]` : address.address === '0.0.0.0' ? '127.0.0.1' : address.address
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await (await engine?.catch(() => undefined))?.close()
    },
  }
}
