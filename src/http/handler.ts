// The Electric-protocol endpoint, framework-neutral: CORS and preflights, the client's parameters, the
// route's shape (static, or decided per request by the app), interruptible live requests, and either
// serving from the source (embedded) or proxying to the Electric behind it (http mode).
import { LimitError } from '../limits/index.js'
import { ShapeError } from '../shape/errors.js'
import { requestIdOf } from '../source/request-id.js'
import { applyCachePolicy } from './cache.js'
import type { ShapeSource } from '../source/source.js'
import type { Shape } from '../sync/shape.js'
import type { InterruptRegistry } from './interrupt.js'
import { defaultServeOptions, type ServeOptions, type ShapeHandlerOptions } from './options.js'
import { parseClientParams } from './params.js'
import { serveProxy } from './proxy.js'
import { corsHeaders, errorBody, errorResponse, preflight, SERVER_HEADER, type HttpResult } from './response.js'
import { serveLog } from './serve.js'
import { serveSse } from './sse.js'
import { serveSubset } from './subset.js'

/** The parts of an HTTP request the endpoint reads, whatever the framework. */
export interface ShapeHttpRequest {
  method: string
  url: URL
  header(name: string): string | undefined
  /** The body as text, or as the object a framework's body parser already made of it. */
  body(): Promise<string | object | undefined>
  /** Aborts when the client goes away. */
  signal: AbortSignal
}

/** A route's shape: fixed, or decided per request (`(req) => sync.shape(...)`, Phoenix.Sync's sync_render). */
export type ShapeResolver<Req> = Shape<any> | ((req: Req) => Shape<any> | Promise<Shape<any>>)

export interface EndpointContext {
  source: () => Promise<ShapeSource>
  interrupts?: InterruptRegistry
  options: ShapeHandlerOptions
  /** `access-control-allow-methods` (app routes: no DELETE). */
  methods?: string
  /** The shape function reads the URL only (the standalone server): its answers are as public as Electric's. */
  shapeFromUrl?: boolean
}

/** Thrown by a request body that exceeds the limit. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError'
}

export const MAX_BODY_BYTES = 8_000_000

/**
 * Answers one request. Errors thrown by a shape function other than ShapeError and LimitError propagate (a Node
 * handler passes them to `next`); everything else becomes an Electric-style response.
 */
export async function handleShapeRequest<Req>(
  ctx: EndpointContext, native: Req, request: ShapeHttpRequest, resolver: ShapeResolver<Req>,
): Promise<HttpResult> {
  const cors = ctx.options.cors ?? true
  const base = { 'electric-server': SERVER_HEADER, ...corsHeaders(request.header('origin'), cors, ctx.methods ?? 'GET, POST, HEAD, OPTIONS') }
  const method = request.method.toUpperCase()
  if (method === 'OPTIONS') return preflight(request.header('access-control-request-headers'), cors, base)
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
    return withBase(errorBody(405, { message: 'Method not allowed' }, { allow: 'GET, POST, HEAD, OPTIONS' }), base, method)
  }
  const result = await answer(ctx, native, request, resolver, method)
  const policy = { perRequest: typeof resolver === 'function' && !ctx.shapeFromUrl, vary: varyOf(ctx.options.vary) }
  const final = applyCachePolicy(withBase(result, base, method), policy, request.url.searchParams.get('offset'))
  if (method === 'HEAD' && final.body !== undefined) {
    await dispose(final.body)
    delete final.body
  }
  return final
}

async function answer<Req>(
  ctx: EndpointContext, native: Req, request: ShapeHttpRequest, resolver: ShapeResolver<Req>, method: 'GET' | 'HEAD' | 'POST',
): Promise<HttpResult> {
  const body = method === 'POST' ? await readBody(request) : { ok: true as const, value: undefined }
  if (!body.ok) return body.result
  let source: ShapeSource
  try {
    source = await ctx.source()
  } catch (error) {
    const requestId = requestIdOf(error)
    ctx.options.onError?.(error, { requestId })
    return errorBody(503, { message: 'Sync service is not ready', requestId }, { 'retry-after': '5' })
  }
  const options: ServeOptions = { ...defaultServeOptions, ...definedOnly(ctx.options) }
  const started = Date.now()
  let live: boolean
  let serve: (shape: Shape<unknown>, signal: AbortSignal) => Promise<HttpResult>
  if (source.proxy) {
    const proxy = source.proxy.bind(source)
    live = flag(request.url.searchParams.get('live'))
    serve = (shape, signal) => serveProxy({ proxy }, shape, {
      method, query: request.url.searchParams, subsetBody: subsetOf(body.value),
      ifNoneMatch: request.header('if-none-match'), accept: request.header('accept'), signal,
    })
  } else {
    const parsed = parseClientParams(request.url.searchParams, body.value)
    if (!parsed.ok) return errorBody(400, { message: 'Invalid request', errors: parsed.errors })
    const params = parsed.params
    live = params.live
    const respond = params.subset ? serveSubset : params.live && params.liveSse ? serveSse : serveLog
    serve = (shape, signal) => respond(source, shape, {
      method, params, ifNoneMatch: request.header('if-none-match'), signal, options,
      holdMs: Math.max(0, options.liveTimeoutMs - (Date.now() - started)),
    })
  }
  for (;;) {
    let shape: Shape<unknown>
    try {
      shape = typeof resolver === 'function' ? await resolver(native) : resolver
    } catch (error) {
      if (error instanceof ShapeError || error instanceof LimitError) return errorResponse(error).result
      throw error
    }
    // Live requests can be interrupted (sync.interrupt); others only end with their client.
    const hold = live && ctx.interrupts ? ctx.interrupts.hold(shape.definition, request.signal) : undefined
    let result: HttpResult
    try {
      result = await serve(shape, hold?.signal ?? request.signal)
    } catch (error) {
      hold?.release()
      if (hold?.interrupted) continue
      if (request.signal.aborted) return { status: 499, headers: {} }
      const { result: response, requestId } = errorResponse(error)
      if (requestId !== undefined) ctx.options.onError?.(error, { requestId })
      return response
    }
    if (hold?.interrupted) {
      // Re-run the shape function: the same shape holds on, a changed one answers 409 (handle mismatch).
      hold.release()
      if (result.body !== undefined) await dispose(result.body)
      continue
    }
    return hold ? afterBody(result, hold.release) : result
  }
}

async function readBody(request: ShapeHttpRequest): Promise<{ ok: true; value: Record<string, unknown> | undefined } | { ok: false; result: HttpResult }> {
  let raw: string | object | undefined
  try {
    raw = await request.body()
  } catch (error) {
    if (error instanceof BodyTooLargeError) return { ok: false, result: errorBody(413, { error: 'Request body too large' }) }
    return { ok: false, result: errorBody(400, { error: 'Failed to read request body' }) }
  }
  if (raw === undefined || raw === '') return { ok: true, value: undefined }
  let value: unknown = raw
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw)
    } catch (error) {
      return { ok: false, result: errorBody(400, { error: 'Invalid JSON in request body', details: (error as Error).message }) }
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, result: errorBody(400, { error: 'Request body must be a JSON object' }) }
  }
  return { ok: true, value: value as Record<string, unknown> }
}

const subsetKeys = ['where', 'order_by', 'limit', 'offset', 'params', 'where_expr', 'order_by_expr', 'subset']

function subsetOf(body: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!body) return undefined
  return Object.fromEntries(Object.entries(body).filter(([key]) => subsetKeys.includes(key)))
}

function withBase(result: HttpResult, base: Record<string, string>, method: string): HttpResult {
  const headers = { ...base, ...result.headers }
  // Electric caches nothing but GET: every POST answer, errors included, is `no-cache`.
  if (method === 'POST') {
    headers['cache-control'] = 'no-cache'
    delete headers['surrogate-control']
  }
  return { ...result, headers }
}

/** Runs `done` once the body has been sent, has failed, or was dropped (even before it started). */
function afterBody(result: HttpResult, done: () => void): HttpResult {
  const body = result.body
  if (body === undefined || typeof body === 'string') {
    done()
    return result
  }
  const inner = body[Symbol.asyncIterator]()
  let finished = false
  const finish = () => {
    if (!finished) {
      finished = true
      done()
    }
  }
  const iterator: AsyncIterator<string | Uint8Array> = {
    async next() {
      try {
        const step = await inner.next()
        if (step.done) finish()
        return step
      } catch (error) {
        finish()
        throw error
      }
    },
    async return() {
      finish()
      await inner.return?.()
      return { done: true, value: undefined }
    },
  }
  return { ...result, body: { [Symbol.asyncIterator]: () => iterator } }
}

export async function dispose(body: string | AsyncIterable<string | Uint8Array>): Promise<void> {
  if (typeof body !== 'string') await body[Symbol.asyncIterator]().return?.()
}

const varyOf = (vary: string | readonly string[] | undefined): readonly string[] | undefined =>
  vary === undefined ? undefined : (typeof vary === 'string' ? vary.split(',') : vary).map((h) => h.trim()).filter(Boolean)

const flag = (value: string | null): boolean => value !== null && value !== 'false'

function definedOnly(options: ShapeHandlerOptions): Partial<ServeOptions> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<ServeOptions>
}
