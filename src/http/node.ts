// The endpoint as a Node handler, `(req, res, next?)`: plain node:http, Express, Connect; Fastify with
// `reply.hijack()` and `handler(request.raw, reply.raw)`. Bodies stream with backpressure; a client
// that disconnects aborts its held request.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { BodyTooLargeError, handleShapeRequest, MAX_BODY_BYTES, type EndpointContext, type ShapeHttpRequest, type ShapeResolver } from './handler.js'
import { requestIdOf } from '../source/request-id.js'
import { errorBody, internalError, type HttpResult } from './response.js'

export type NodeShapeHandler<Req extends IncomingMessage = IncomingMessage> =
  (req: Req, res: ServerResponse, next?: (error?: unknown) => void) => Promise<void>

export function nodeHandler<Req extends IncomingMessage>(ctx: EndpointContext, resolver: ShapeResolver<Req>): NodeShapeHandler<Req> {
  return async (req, res, next) => {
    const controller = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) controller.abort()
    })
    let result: HttpResult
    try {
      result = await handleShapeRequest(ctx, req, nodeRequest(req, controller.signal), resolver)
    } catch (error) {
      // Thrown by the app's shape function: Express-style apps handle it themselves.
      if (next) return next(error)
      const requestId = requestIdOf(error)
      ctx.options.onError?.(error, { requestId })
      result = internalError(requestId)
    }
    await sendNode(res, result, ctx.options.onError)
  }
}

export function nodeRequest(req: IncomingMessage, signal: AbortSignal): ShapeHttpRequest {
  return {
    method: req.method ?? 'GET',
    url: new URL(req.url ?? '/', 'http://localhost'),
    header(name) {
      const value = req.headers[name.toLowerCase()]
      return Array.isArray(value) ? value.join(', ') : value
    },
    async body() {
      // A body parser (express.json(), ...) may have consumed the stream already.
      const parsed = (req as { body?: unknown }).body
      if (parsed !== undefined) return Buffer.isBuffer(parsed) ? parsed.toString('utf8') : (parsed as string | object)
      return readBody(req)
    },
    signal,
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError('request body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

export async function sendNode(res: ServerResponse, result: HttpResult, onError?: (error: unknown, info: { requestId: string }) => void): Promise<void> {
  if (res.headersSent) return
  res.statusCode = result.status
  for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value)
  const body = result.body
  if (body === undefined || typeof body === 'string') {
    if (body !== undefined) res.setHeader('content-length', Buffer.byteLength(body))
    res.end(body)
    return
  }
  res.flushHeaders()
  try {
    for await (const chunk of body) {
      if (res.destroyed) break
      if (!res.write(chunk)) await drained(res)
    }
  } catch (error) {
    onError?.(error, { requestId: requestIdOf(error) })
    res.destroy()
    return
  }
  res.end()
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}
