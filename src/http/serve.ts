// Shape log responses over any ShapeSource: initial chunks, catch-up reads, `offset=now` and live
// long-polls, with Electric's headers, cache-control and etag/304.
import { isChangeMessage, type Message } from '../source/messages.js'
import type { FetchResult, ShapeSource } from '../source/source.js'
import type { Shape } from '../sync/shape.js'
import { fromPieces, jsonArray } from './body.js'
import { nextCursor } from './cursor.js'
import type { ServeOptions } from './options.js'
import type { ClientParams } from './params.js'
import { cacheControl, etag, matchesEtag, mustRefetch, type HttpResult } from './response.js'
import { encodeMessages } from './transform.js'

export interface ServeContext {
  method: 'GET' | 'HEAD' | 'POST'
  params: ClientParams
  ifNoneMatch: string | undefined
  /** Aborts a held request: the client left or the request was interrupted. */
  signal: AbortSignal
  /** How long a live request may still be held, ms (less than liveTimeoutMs after an interrupt). */
  holdMs: number
  options: ServeOptions
}

export async function serveLog(source: ShapeSource, shape: Shape<unknown>, ctx: ServeContext): Promise<HttpResult> {
  const { params } = ctx
  const cursor = params.live ? nextCursor(ctx.options.liveTimeoutMs, params.cursor) : undefined
  const result = await source.fetch(shape.definition, {
    offset: params.offset,
    handle: params.handle,
    live: params.live,
    changesOnly: params.changesOnly,
    liveTimeout: ctx.holdMs,
    signal: ctx.signal,
  })
  if (result.status === 'must-refetch') return mustRefetch(result.handle, cursor)
  const noChanges = params.offset === 'now' || (params.live && !hasChanges(result.messages))
  const headers = logHeaders(result, ctx, { noChanges, cursor, upToDate: result.upToDate })
  if (matchesEtag(ctx.ifNoneMatch, headers.etag!)) {
    delete headers['electric-schema']
    return { status: 304, headers }
  }
  return { status: 200, headers, body: logBody(result, shape.transform) }
}

/**
 * A log response's body: the source's JSON array text as it keeps it (a snapshot chunk), else the
 * messages' shared JSON texts joined; messages are parsed only for a transform.
 */
function logBody(result: Extract<FetchResult, { status: 'ok' }>, transform: Shape<unknown>['transform']): HttpResult['body'] {
  if (transform) return jsonArray(encodeMessages(result.messages, result.encoded, transform))
  return result.arrayPieces ? fromPieces(result.arrayPieces()) : jsonArray(result.encoded)
}

/** The headers of a 200 log response (Electric's `put_resp_headers`). */
export function logHeaders(
  result: Extract<FetchResult, { status: 'ok' }>, ctx: ServeContext,
  { noChanges, cursor, upToDate, offset = result.offset }: { noChanges: boolean; cursor: string | undefined; upToDate: boolean; offset?: string },
): Record<string, string> {
  const { params } = ctx
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': cacheControl({ method: ctx.method, offset: params.offset, live: params.live, liveSse: params.liveSse }, ctx.options),
    etag: etag(result.handle, params.offset, offset, noChanges),
    'electric-handle': result.handle,
    'electric-offset': offset,
    'electric-has-data': noChanges ? 'false' : 'true',
  }
  if (cursor !== undefined) headers['electric-cursor'] = cursor
  if (!params.live) headers['electric-schema'] = JSON.stringify(result.schema)
  // Never on the first request (offset -1), so its response can be cached for long.
  if (upToDate && params.offset !== '-1') headers['electric-up-to-date'] = ''
  return headers
}

export const hasChanges = (messages: readonly Message[]): boolean => messages.some(isChangeMessage)
