// Flow control per WebSocket: the mount helper puts the connection's socket into the context, and a
// subscription stops reading its cursor while that socket has too much queued. A slow client then costs
// nothing but its position in the log; one whose buffer stays full is disconnected (it reconnects and
// resumes from its last event).
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'

const socketKey = Symbol.for('trpc-sync.socket')
/** `WebSocket.OPEN`: the one ready state in which frames may be sent. */
export const OPEN = 1
export const defaultHighWater = 1 << 20

export interface FlowControl {
  /** Stop reading while more than this many bytes wait to be sent. Default 1 MiB. */
  highWaterBytes?: number
  /** Close a connection whose buffer has stayed full this long. Default 30 s. */
  stallTimeoutMs?: number
}

/**
 * The context with the socket attached under a symbol, enumerable so that middlewares spreading the
 * context keep it. A plain object is copied (createContext may return one object for every connection);
 * another object (a class instance) gets the property itself.
 */
export function withSocket<C>(ctx: C, socket: WebSocket): C {
  if (ctx === undefined || ctx === null) return { [socketKey]: socket } as C
  if (typeof ctx !== 'object') return ctx
  const proto = Object.getPrototypeOf(ctx)
  if (proto === Object.prototype || proto === null) return { ...ctx, [socketKey]: socket }
  if (Object.isExtensible(ctx)) Object.defineProperty(ctx, socketKey, { value: socket, enumerable: true, configurable: true, writable: true })
  return ctx
}

export function socketOf(ctx: unknown): WebSocket | undefined {
  return typeof ctx === 'object' && ctx !== null ? (ctx as { [socketKey]?: WebSocket })[socketKey] : undefined
}

/**
 * Runs `send` with the socket's writes held, so the frames it sends leave in one write, now (not at the
 * end of the turn: other connections' work later in the turn does not delay them).
 */
export function corked(socket: WebSocket, send: () => void): void {
  const raw = rawSocket(socket)
  if (!raw) return send()
  raw.cork()
  try {
    send()
  } finally {
    raw.uncork()
  }
}

/** Resolves once the socket can take more (or is closing, or `signal` aborts); closes a stalled socket. */
export async function whenWritable(socket: WebSocket, flow: FlowControl, signal: AbortSignal | undefined): Promise<void> {
  const limit = flow.highWaterBytes ?? defaultHighWater
  if (socket.bufferedAmount <= limit) return
  const deadline = Date.now() + (flow.stallTimeoutMs ?? 30_000)
  while (socket.bufferedAmount > limit && socket.readyState === OPEN && !signal?.aborted) {
    const remaining = deadline - Date.now()
    if (remaining <= 0) {
      socket.close(1013, 'trpc-sync: client too slow, send buffer stayed full')
      return
    }
    await waitForDrain(socket, signal, remaining)
  }
}

/** Waits for the socket's next 'drain' or close, `signal`, or `ms`; leaves no listener or timer behind. */
function waitForDrain(socket: WebSocket, signal: AbortSignal | undefined, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', finish)
      resolve()
    }
    // Without access to the TCP socket, poll.
    const timer = setTimeout(finish, rawSocket(socket) ? ms : Math.min(ms, 50))
    signal?.addEventListener('abort', finish, { once: true })
    void drained(socket).then(finish)
  })
}

const rawSocket = (socket: WebSocket) => (socket as unknown as { _socket?: Socket })._socket

/** One pending 'drain' wait per socket, shared by all its paused subscriptions. */
const drains = new WeakMap<WebSocket, Promise<void>>()

function drained(socket: WebSocket): Promise<void> {
  let promise = drains.get(socket)
  if (promise) return promise
  promise = new Promise<void>((resolve) => {
    const raw = rawSocket(socket)
    const done = () => {
      raw?.off('drain', done)
      socket.off('close', done)
      drains.delete(socket)
      resolve()
    }
    raw?.on('drain', done)
    socket.on('close', done)
  })
  drains.set(socket, promise)
  return promise
}
