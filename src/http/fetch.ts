// The endpoint as a fetch handler, `(Request) => Promise<Response>`: Next.js route handlers, Hono,
// Bun, Deno, Cloudflare-style runtimes.
import { BodyTooLargeError, handleShapeRequest, MAX_BODY_BYTES, type EndpointContext, type ShapeHttpRequest, type ShapeResolver } from './handler.js'
import { requestIdOf } from '../source/request-id.js'
import { errorBody, internalError, type HttpResult } from './response.js'

export type FetchShapeHandler = (request: Request) => Promise<Response>

export function fetchHandler(ctx: EndpointContext, resolver: ShapeResolver<Request>): FetchShapeHandler {
  return async (request) => {
    let result: HttpResult
    try {
      result = await handleShapeRequest(ctx, request, fetchRequest(request), resolver)
    } catch (error) {
      const requestId = requestIdOf(error)
      ctx.options.onError?.(error, { requestId })
      result = internalError(requestId)
    }
    return toResponse(result)
  }
}

function fetchRequest(request: Request): ShapeHttpRequest {
  return {
    method: request.method,
    url: new URL(request.url),
    header: (name) => request.headers.get(name) ?? undefined,
    async body() {
      if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) throw new BodyTooLargeError('request body too large')
      const text = await request.text()
      if (text.length > MAX_BODY_BYTES) throw new BodyTooLargeError('request body too large')
      return text
    },
    signal: request.signal,
  }
}

export function toResponse(result: HttpResult): Response {
  const { status, headers, body } = result
  if (body === undefined || typeof body === 'string') return new Response(body ?? null, { status, headers })
  const iterator = body[Symbol.asyncIterator]()
  const encoder = new TextEncoder()
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const step = await iterator.next()
      if (step.done) controller.close()
      else controller.enqueue(typeof step.value === 'string' ? encoder.encode(step.value) : step.value)
    },
    async cancel() {
      await iterator.return?.()
    },
  })
  return new Response(stream, { status, headers })
}
