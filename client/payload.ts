// Frames no larger than the server's `maxPayload`. The server closes a socket that sends a bigger one
// (code 1009), and tRPC's client would reconnect and send the same request again, forever. So the
// socket measures each frame before sending it: a batch over the limit goes one request a frame, and a
// request over it is not sent but answered here with PAYLOAD_TOO_LARGE, delivered to the socket's own
// message listeners, so tRPC ends that operation as if the server had refused it and nothing retries
// it. A server whose limit is lower than the client was told closes with 1009 once: the largest frame
// sent on that socket was over its limit, so a request alone in it is answered the same way, and no
// frame that large is sent again (the others are sent again after the reconnect, as tRPC does).
import type { WebSocketConstructor } from './client.js'

type Listener = (this: unknown, event: { data: unknown }) => void
interface Request { id?: unknown }

/** JSON-RPC's number for PAYLOAD_TOO_LARGE, as tRPC's server sends it. */
const PAYLOAD_TOO_LARGE = -32013

/** `Base` with frames bounded by `maxPayload` bytes (see above); errors are serialized with `transformer`. */
export function payloadLimited(Base: WebSocketConstructor, maxPayload: number, transformer: { serialize(value: unknown): unknown }): typeof globalThis.WebSocket {
  // Frames over `limit` are refused; `told` says whether it is the configured one or learnt from a 1009.
  let limit = maxPayload
  let told = true
  const refusal = (id: unknown, bytes: number) => {
    const message = told
      ? `the request is ${bytes} bytes, larger than the server's maxPayload (${limit} bytes); it was not sent`
      : `the request is ${bytes} bytes, larger than the server's maxPayload (less than ${limit + 1} bytes: the server closed the connection at a request of that size, code 1009); it is not sent again`
    const shape = { message, code: PAYLOAD_TOO_LARGE, data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413, limit: 'maxPayload' } }
    return JSON.stringify({ id, error: transformer.serialize(shape) })
  }

  return class PayloadLimitedWebSocket extends (Base as typeof globalThis.WebSocket) {
    // tRPC's message listeners, to answer a refused request on this socket (they read only `data`).
    #listeners: Listener[] = []
    // The largest frame sent on this socket: its size, and its request's id if it held one alone.
    #largest: { bytes: number; id: unknown } | undefined

    constructor(...args: ConstructorParameters<typeof globalThis.WebSocket>) {
      super(...args)
      // Added before tRPC's own listeners, so it runs first: a refused request is answered before
      // tRPC's close handling would fail it as "WebSocket closed" or send it again.
      super.addEventListener('close', (event) => {
        if (event.code !== 1009 || !this.#largest) return
        limit = Math.min(limit, this.#largest.bytes - 1)
        told = false
        // It was over the server's limit (it is at least the frame the server closed at) and never read.
        if (this.#largest.id !== undefined) this.#deliver(refusal(this.#largest.id, this.#largest.bytes))
      })
    }

    override addEventListener(...args: Parameters<typeof globalThis.WebSocket.prototype.addEventListener>): void {
      const [type, listener] = args
      if (type === 'message' && typeof listener === 'function') this.#listeners.push(listener as unknown as Listener)
      super.addEventListener(...args)
    }

    override send(data: Parameters<typeof globalThis.WebSocket.prototype.send>[0]): void {
      if (typeof data !== 'string') return super.send(data)
      const bytes = utf8Bytes(data)
      if (bytes <= limit) {
        if (!this.#largest || bytes > this.#largest.bytes) this.#largest = { bytes, id: loneId(data) }
        return super.send(data)
      }
      const requests = requestsOf(data)
      if (requests.length > 1) {
        for (const request of requests) this.send(JSON.stringify(request))
        return
      }
      const [request] = requests
      // Only a request with an id can be answered; anything else (connectionParams) goes as it is.
      if (!answerable(request)) return super.send(data)
      const answer = refusal(request.id, bytes)
      // Later: tRPC marks the request as sent on this socket only after `send` returns.
      setTimeout(() => this.#deliver(answer), 0)
    }

    #deliver(data: string): void {
      for (const listener of this.#listeners) listener.call(this, { data })
    }
  }
}

/** The id of the one request in `frame`, or undefined (a batch, or a message without one). */
function loneId(frame: string): unknown {
  const requests = requestsOf(frame)
  return requests.length === 1 && answerable(requests[0]) ? requests[0].id : undefined
}

function answerable(request: Request | undefined): request is Request {
  return request?.id !== undefined && request.id !== null
}

function requestsOf(frame: string): Request[] {
  try {
    const parsed: unknown = JSON.parse(frame)
    return (Array.isArray(parsed) ? parsed : [parsed]).filter((r): r is Request => typeof r === 'object' && r !== null)
  } catch {
    return []
  }
}

/** UTF-8 bytes of `text` (what the server counts), without encoding it. */
function utf8Bytes(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4 // a surrogate pair: one 4-byte character
      i++
    } else bytes += 3
  }
  return bytes
}
