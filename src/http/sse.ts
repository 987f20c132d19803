// SSE live mode (`live=true&live_sse=true`): one response that stays open for sseTimeoutMs, sending each
// message as `data: <json>\n\n` as changes arrive and `: keep-alive` comments when quiet. It ends early
// when the shape rotates or the request is interrupted; the client's next request then gets the 409.
import { upToDate } from '../source/messages.js'
import type { FetchResult, ShapeSource } from '../source/source.js'
import type { Shape } from '../sync/shape.js'
import { sseEvents } from './body.js'
import { nextCursor } from './cursor.js'
import { mustRefetch, type HttpResult } from './response.js'
import { hasChanges, logHeaders, type ServeContext } from './serve.js'
import { encodeMessages } from './transform.js'

type Ok = Extract<FetchResult, { status: 'ok' }>

export async function serveSse(source: ShapeSource, shape: Shape<unknown>, ctx: ServeContext): Promise<HttpResult> {
  const { params } = ctx
  const cursor = nextCursor(ctx.options.liveTimeoutMs, params.cursor)
  // Not held: anything already after the client's offset is sent at once, in the stream.
  const first = await source.fetch(shape.definition, {
    offset: params.offset, handle: params.handle, live: false, changesOnly: params.changesOnly, signal: ctx.signal,
  })
  if (first.status === 'must-refetch') return mustRefetch(first.handle, cursor)
  // The offset header is where the client resumes if the stream breaks before its first up-to-date:
  // the requested offset, never past events it may not have received.
  const headers = logHeaders(first, ctx, {
    noChanges: false, cursor, upToDate: first.upToDate && !hasChanges(first.messages), offset: params.offset,
  })
  headers['content-type'] = 'text/event-stream'
  headers.connection = 'keep-alive'
  return { status: 200, headers, body: events(source, shape, ctx, first) }
}

async function* events(source: ShapeSource, shape: Shape<unknown>, ctx: ServeContext, first: Ok): AsyncGenerator<string> {
  const { sseTimeoutMs, keepAliveMs } = ctx.options
  const deadline = Date.now() + sseTimeoutMs
  let lastWrite = Date.now()
  let result: FetchResult = first
  for (;;) {
    if (result.status === 'must-refetch') return
    if (hasChanges(result.messages)) {
      yield sseEvents(encode(result, shape))
      lastWrite = Date.now()
    }
    if (ctx.signal.aborted) return
    const now = Date.now()
    if (now >= deadline) return
    if (now - lastWrite >= keepAliveMs) {
      yield ': keep-alive\n\n'
      lastWrite = now
    }
    const wait = Math.max(1, Math.min(deadline - now, keepAliveMs - (now - lastWrite)))
    result = await source.fetch(shape.definition, {
      offset: result.offset, handle: result.handle, live: true, changesOnly: ctx.params.changesOnly, liveTimeout: wait, signal: ctx.signal,
    })
  }
}

/**
 * An SSE client resumes from `<global_last_seen_lsn>_0` after each up-to-date (Electric's client), and
 * `<lsn>_0` comes before the other changes of the transaction at `lsn`: resuming there would repeat
 * them. So the LSN is past the last change sent: one more than its transaction's commit LSN (no other
 * commit starts inside that commit record) when the engine has applied nothing later, else the applied LSN.
 */
function encode(result: Ok, shape: Shape<unknown>): string[] {
  const encoded = encodeMessages(result.messages, result.encoded, shape.transform)
  const last = result.messages.at(-1)
  if (!last || !('control' in last.headers) || last.headers.control !== 'up-to-date') return encoded
  const applied = BigInt(last.headers.global_last_seen_lsn ?? '0')
  const tx = BigInt(result.offset.split('_')[0]!)
  const resume = tx > 0n && tx >= applied ? tx + 1n : applied
  return [...encoded.slice(0, -1), JSON.stringify(upToDate(resume))]
}
