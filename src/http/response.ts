// Responses as Electric sends them: the framework-neutral result type, cache-control, etag, CORS and
// the error bodies (400 `Invalid request`, 409 must-refetch, 5xx without internals).
import { ShapeError } from '../shape/errors.js'
import { classifyError } from '../source/errors.js'
import { requestIdOf } from '../source/request-id.js'
import { isServerLimit } from '../limits/status.js'
import type { CorsOptions, ServeOptions } from './options.js'
import type { ParamErrors } from './params.js'

/** A response before it meets a framework: Node's `ServerResponse` or a fetch `Response`. */
export interface HttpResult {
  status: number
  headers: Record<string, string>
  body?: string | AsyncIterable<string | Uint8Array>
}

export const SERVER_HEADER = 'ElectricSQL/1.7.12 trpc-sync/0.1.0'

/** The response headers a browser client must be able to read (else `MissingHeadersError`). */
export const EXPOSED_HEADERS =
  'electric-cursor,electric-handle,electric-has-data,electric-offset,electric-schema,electric-up-to-date,electric-internal-known-error,retry-after'

const json = { 'content-type': 'application/json; charset=utf-8' }
const noStore = { 'cache-control': 'no-store', 'surrogate-control': 'no-store' }

export interface CacheContext {
  method: string
  /** The requested offset (canonical). */
  offset: string
  live: boolean
  liveSse: boolean
}

/** `cache-control` of a 200/304 shape response (Electric's `put_cache_headers`). */
export function cacheControl(ctx: CacheContext, options: ServeOptions): string {
  if (ctx.method === 'POST') return 'no-cache'
  if (ctx.offset === '-1') return 'public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746'
  if (ctx.live && ctx.liveSse) return `public, max-age=${Math.max(1, Math.floor(options.sseTimeoutMs / 1000) - 1)}`
  if (ctx.live) return 'public, max-age=5, stale-while-revalidate=5'
  return `public, max-age=${options.maxAge}, stale-while-revalidate=${options.staleAge}`
}

/**
 * `"<handle>:<requested offset>:<response offset>"`; a response without changes gets a unique suffix
 * so a CDN can never revalidate an empty live response.
 */
export function etag(handle: string, requested: string, responded: string, noChanges: boolean): string {
  return `"${handle}:${requested}:${responded}${noChanges ? `:${process.hrtime.bigint()}` : ''}"`
}

/** Whether `If-None-Match` names this etag (a comma-separated list, quotes optional). */
export function matchesEtag(ifNoneMatch: string | undefined, tag: string): boolean {
  if (!ifNoneMatch) return false
  const bare = tag.slice(1, -1)
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^"|"$/g, '') === bare)
}

/** CORS headers for a response; none when CORS is left to the app. */
export function corsHeaders(origin: string | undefined, cors: boolean | CorsOptions, methods: string): Record<string, string> {
  if (cors === false) return {}
  const options = cors === true ? {} : cors
  const allowed = allowedOrigin(origin, options.origin)
  const headers: Record<string, string> = {
    'access-control-expose-headers': EXPOSED_HEADERS,
    'access-control-allow-methods': methods,
  }
  if (allowed !== undefined) headers['access-control-allow-origin'] = allowed
  if (options.credentials) headers['access-control-allow-credentials'] = 'true'
  if (allowed !== undefined && allowed !== '*' && options.origin !== undefined) headers.vary = 'Origin'
  return headers
}

function allowedOrigin(origin: string | undefined, rule: CorsOptions['origin']): string | undefined {
  if (rule === undefined) return origin ?? '*'
  if (typeof rule === 'string') return rule
  if (origin === undefined) return undefined
  if (typeof rule === 'function') return rule(origin) ? origin : undefined
  return rule.includes(origin) ? origin : undefined
}

/** A preflight answer: 204, one day of max-age, and only the request headers Electric (or the app) allows. */
export function preflight(requested: string | undefined, cors: boolean | CorsOptions, base: Record<string, string>): HttpResult {
  const headers: Record<string, string> = { ...base, 'access-control-max-age': '86400', connection: 'keep-alive' }
  const allow = new Set(['if-none-match', 'traceparent', ...(typeof cors === 'object' ? cors.allowHeaders ?? [] : []).map((h) => h.toLowerCase())])
  const granted = (requested ?? '').split(',').map((h) => h.trim().toLowerCase()).filter((h) => allow.has(h))
  if (granted.length) headers['access-control-allow-headers'] = granted.join(',')
  return { status: 204, headers }
}

export function invalidRequest(errors: ParamErrors, requestId?: string): HttpResult {
  const body = requestId === undefined ? { message: 'Invalid request', errors } : { message: 'Invalid request', errors, requestId }
  return { status: 400, headers: { ...json, ...noStore }, body: JSON.stringify(body) }
}

/** 409: the client's handle is not the shape's current log; `handle` names the one to refetch from. */
export function mustRefetch(handle: string | undefined, cursor: string | undefined): HttpResult {
  const headers: Record<string, string> = { ...json, 'cache-control': `public, max-age=${handle ? 60 : 1}, must-revalidate` }
  if (handle) headers['electric-handle'] = handle
  if (cursor !== undefined) headers['electric-cursor'] = cursor
  return { status: 409, headers, body: '[{"headers":{"control":"must-refetch"}}]' }
}

export function errorBody(status: number, body: object, extra: Record<string, string> = {}): HttpResult {
  return { status, headers: { ...json, ...noStore, ...extra }, body: JSON.stringify(body) }
}

/**
 * The response for an error thrown while serving, by its class (source/errors.ts): the request's own
 * fault (an error with `field`, a ShapeError, a query Postgres refused) is a 400 naming the field; a
 * database or upstream outage a 503 the client retries; anything else a 500. Messages of server
 * errors never reach the client. `requestId` is set (and sent in the body) for the errors the server
 * reports to `onError`: server errors, and client errors with a cause the client is not shown.
 */
export function errorResponse(error: unknown): { result: HttpResult; serverError: boolean; requestId?: string } {
  const kind = classifyError(error)
  const cause = error instanceof Error && error.cause !== undefined
  if (kind === 'request') {
    const requestId = cause ? requestIdOf(error) : undefined
    const errors = error instanceof ShapeError ? { [rootField(error.path)]: [error.problem] }
      : nest(typeof (error as { field?: unknown }).field === 'string' ? (error as { field: string }).field : 'request', (error as Error).message)
    // A limit of the whole server (LimitError status 429): the request is fine, the server is full.
    if (isServerLimit(error)) {
      const body = { message: 'Too many requests', code: 'limit_exceeded', limit: error.field, errors }
      return { result: errorBody(429, body, { 'retry-after': '5' }), serverError: false, requestId }
    }
    return { result: invalidRequest(errors, requestId), serverError: false, requestId }
  }
  const requestId = requestIdOf(error)
  if (kind === 'unavailable') {
    // A transient error with a `clientCode` (a table locked by a long transaction) has a message written for clients.
    const clientCode = (error as { clientCode?: unknown }).clientCode
    const body = typeof clientCode === 'string' && error instanceof Error
      ? { code: clientCode, error: error.message, requestId }
      : { code: 'database_unreachable', error: 'Database is unreachable', requestId }
    return { result: errorBody(503, body, { 'retry-after': '10' }), serverError: true, requestId }
  }
  return { result: internalError(requestId), serverError: true, requestId }
}

/** 500 with nothing but the request id the server logged the error under. */
export const internalError = (requestId: string): HttpResult => errorBody(500, { error: 'Internal server error', requestId })

/** `subset.where` → `{ subset: { where: [message] } }`; other fields are flat. */
function nest(field: string, message: string): ParamErrors {
  const dot = field.indexOf('.')
  if (dot < 0) return { [field]: [message] }
  return { [field.slice(0, dot)]: { [field.slice(dot + 1)]: [message] } }
}

const rootField = (path: string): string => /^[A-Za-z_]+/.exec(path)?.[0] ?? 'shape'

