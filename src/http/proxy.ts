// Endpoints in http mode: the client's request is forwarded to Electric through the source's `proxy`
// (which adds the server-side shape and the credentials) and Electric's response is streamed back with
// its own headers. Only the client-controlled protocol parameters go upstream.
import { ELECTRIC_PROTOCOL_QUERY_PARAMS } from '@electric-sql/client'
import { isChangeMessage, type ChangeMessage, type Message } from '../source/messages.js'
import type { ShapeSource } from '../source/source.js'
import type { Shape, ShapeTransform } from '../sync/shape.js'
import type { HttpResult } from './response.js'
import { applyTransform } from './transform.js'

export interface ProxyContext {
  method: 'GET' | 'HEAD' | 'POST'
  query: URLSearchParams
  /** The POST body's subset keys only (a body could otherwise name another table). */
  subsetBody: Record<string, unknown> | undefined
  ifNoneMatch: string | undefined
  accept: string | undefined
  signal: AbortSignal
}

/** Response headers that describe one hop, or that the endpoint sets itself (CORS). */
const dropped = /^(connection|keep-alive|transfer-encoding|content-length|content-encoding|access-control-.*|vary)$/i

export async function serveProxy(source: Required<Pick<ShapeSource, 'proxy'>>, shape: Shape<unknown>, ctx: ProxyContext): Promise<HttpResult> {
  const params = new URLSearchParams()
  for (const key of ELECTRIC_PROTOCOL_QUERY_PARAMS) for (const value of ctx.query.getAll(key)) params.append(key, value)
  const headers: Record<string, string> = {}
  if (ctx.ifNoneMatch) headers['if-none-match'] = ctx.ifNoneMatch
  if (ctx.accept) headers.accept = ctx.accept
  let body: string | undefined
  if (ctx.method === 'POST') {
    body = JSON.stringify(ctx.subsetBody ?? {})
    headers['content-type'] = 'application/json'
  }
  const response = await source.proxy(shape.definition, { method: ctx.method, params, headers, body, signal: ctx.signal })
  const out: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    if (!dropped.test(name)) out[name] = value
  })
  const sse = out['content-type']?.startsWith('text/event-stream') ?? false
  if (sse) out.connection = 'keep-alive'
  if (!response.body || ctx.method === 'HEAD') {
    await response.body?.cancel()
    return { status: response.status, headers: out }
  }
  if (!shape.transform || response.status !== 200) return { status: response.status, headers: out, body: chunks(response.body) }
  if (sse) return { status: 200, headers: out, body: transformSse(response.body, shape.transform) }
  return { status: 200, headers: out, body: transformJson(await response.text(), shape.transform) }
}

async function* chunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}

/** A log body (array) or a subset body (`{metadata, data}`) with the transform applied. */
function transformJson(text: string, transform: ShapeTransform): string {
  const body = JSON.parse(text) as Message[] | { metadata: unknown; data: ChangeMessage[] }
  const map = (messages: Message[]) => messages.flatMap((m): readonly Message[] => (isChangeMessage(m) ? applyTransform(transform, m) : [m]))
  return JSON.stringify(Array.isArray(body) ? map(body) : { ...body, data: map(body.data) })
}

async function* transformSse(stream: ReadableStream<Uint8Array>, transform: ShapeTransform): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of chunks(stream)) {
    buffer += decoder.decode(chunk, { stream: true })
    let end: number
    let out = ''
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      out += transformEvent(buffer.slice(0, end), transform)
      buffer = buffer.slice(end + 2)
    }
    if (out) yield out
  }
}

function transformEvent(event: string, transform: ShapeTransform): string {
  if (!event.startsWith('data: ')) return `${event}\n\n`
  const message = JSON.parse(event.slice(6)) as Message
  if (!isChangeMessage(message)) return `${event}\n\n`
  return applyTransform(transform, message).map((m) => `data: ${JSON.stringify(m)}\n\n`).join('')
}
