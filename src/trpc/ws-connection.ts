// One WebSocket connection speaking tRPC's WebSocket protocol (what `wsLink` sends and expects): queries,
// mutations and subscriptions, batches, `connectionParams`, PING/PONG, 'started' / 'stopped', errors
// through the router's errorFormatter. It replaces tRPC's own connection handler for one reason, cost:
// tRPC's loop races every event of a subscription against the stop signal, wraps it, transforms and
// encodes it, which was most of the CPU a delivered change cost (issues 13 and 15, profiles in their
// notes). Here a subscription's loop awaits its iterator alone (a stop resolves the pending wait), and a
// tracked event the sync transformer marked as shared (a log entry's change, the same object for every
// reader) is serialized once per entry and written around each reader's ids (event-frame.ts).
// Procedures run through tRPC's own `callProcedure`, so middlewares, input parsers and the resolver
// behave exactly as with tRPC's adapter.
import type { IncomingMessage } from 'node:http'
import { TRPCError, type AnyRouter, type inferRouterContext } from '@trpc/server'
import { handleKeepAlive, type CreateWSSContextFnOptions } from '@trpc/server/adapters/ws'
import { isObservable, observableToAsyncIterable } from '@trpc/server/observable'
import {
  callProcedure, getErrorShape, getTRPCErrorFromUnknown, isAsyncIterable, isTrackedEnvelope,
  parseConnectionParamsFromUnknown, parseTRPCMessage, transformTRPCResponse,
  type TRPCClientOutgoingMessage, type TRPCResponseMessage,
} from '@trpc/server/unstable-core-do-not-import'
import type { WebSocket } from 'ws'
import { trackedFrame } from './event-frame.js'
import { corked, defaultHighWater, OPEN, whenWritable, type FlowControl } from './socket.js'
import { eventBatches, type EventBatches } from './subscription.js'

type ProcedureType = 'query' | 'mutation' | 'subscription'
type RequestId = string | number

export interface ConnectionErrorInfo {
  error: TRPCError
  type: ProcedureType | 'unknown'
  path: string | undefined
  input: unknown
  ctx: unknown
  req: IncomingMessage
}

export interface ConnectionOptions<TRouter extends AnyRouter> {
  router: TRouter
  createContext?: (opts: CreateWSSContextFnOptions) => inferRouterContext<TRouter> | Promise<inferRouterContext<TRouter>>
  onError?: (info: ConnectionErrorInfo) => void
  keepAlive?: { enabled: boolean; pingMs?: number; pongWaitMs?: number }
}

/** What a client is told when its error cannot be formatted: nothing about the error. */
const fallbackErrorShape = { code: -32603, message: 'Internal server error', data: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500 } }

/** A `ws` connection listener that serves `router` (see above). */
export function connectionHandler<TRouter extends AnyRouter>(options: ConnectionOptions<TRouter>): (socket: WebSocket, req: IncomingMessage) => void {
  const { router } = options
  const config = router._def._config
  const output = config.transformer.output

  return (socket, req) => {
    const subscriptions = new Map<RequestId, AbortController>()
    const closed = new AbortController()
    let ctx: unknown

    const sendText = (text: string) => { if (socket.readyState === OPEN) socket.send(text) }
    const send = (message: TRPCResponseMessage) => {
      if (socket.readyState === OPEN) socket.send(JSON.stringify(transformTRPCResponse(config, message)))
    }
    const report = (info: Omit<ConnectionErrorInfo, 'ctx' | 'req'>) => {
      try {
        options.onError?.({ ...info, ctx, req })
      } catch (error) {
        console.error('[trpc-sync] onError threw:', error)
      }
    }
    const errorShape = (error: TRPCError, type: ProcedureType | 'unknown', path: string | undefined, input: unknown) => {
      try {
        return getErrorShape({ config, error, type, path, input, ctx })
      } catch (cause) {
        report({ error: getTRPCErrorFromUnknown(cause), type, path, input })
        return fallbackErrorShape
      }
    }
    /** Reports `cause` and answers request `id` (null: the connection) with its error. */
    const fail = (id: RequestId | null, jsonrpc: '2.0' | undefined, cause: unknown, type: ProcedureType | 'unknown' = 'unknown', path?: string, input?: unknown) => {
      const error = getTRPCErrorFromUnknown(cause)
      report({ error, type, path, input })
      try {
        send({ id, jsonrpc, error: errorShape(error, type, path, input) } as TRPCResponseMessage)
      } catch (failure) {
        // A shape the transformer cannot serialize: the request is still answered, and nothing throws
        // out of a socket listener.
        report({ error: getTRPCErrorFromUnknown(failure), type, path, input })
        send({ id, jsonrpc, error: fallbackErrorShape } as TRPCResponseMessage)
      }
    }

    /** Resolves true once the context is made; false if making it failed (the client was told, and is closed). */
    const makeContext = async (connectionParams: () => Record<string, string | undefined> | null): Promise<boolean> => {
      try {
        ctx = await options.createContext?.({
          req, res: socket,
          info: { connectionParams: connectionParams(), calls: [], isBatchCall: false, accept: null, type: 'unknown', signal: closed.signal, url: null },
        } as unknown as CreateWSSContextFnOptions)
        return true
      } catch (cause) {
        fail(null, undefined, cause)
        setImmediate(() => socket.close())
        return false
      }
    }
    // With `?connectionParams=1` the client's first message carries them, and the context waits for it.
    let context = new URL(req.url ?? '/', 'http://localhost').searchParams.get('connectionParams') === '1' ? undefined : makeContext(() => null)

    async function handle(message: TRPCClientOutgoingMessage, batchIndex: number, ready: Promise<boolean>): Promise<void> {
      const { id, jsonrpc } = message
      if (id === null) return fail(null, jsonrpc, new TRPCError({ code: 'PARSE_ERROR', message: '`id` is required' }))
      if (message.method === 'subscription.stop') {
        subscriptions.get(id)?.abort()
        return
      }
      const { path, lastEventId } = message.params
      const type = message.method
      let input = message.params.input
      if (lastEventId !== undefined) input = isObject(input) ? { ...input, lastEventId } : (input ?? { lastEventId })
      if (type === 'subscription' && subscriptions.has(id)) {
        return fail(id, jsonrpc, new TRPCError({ code: 'BAD_REQUEST', message: `Duplicate id ${id}` }), type, path, input)
      }
      const stop = new AbortController()
      if (type === 'subscription') subscriptions.set(id, stop)
      // A subscription refused before it started is answered with its error alone (as tRPC's adapter does).
      let refused = false
      let started = false
      try {
        if (!(await ready)) return
        if (stop.signal.aborted || (type === 'subscription' && socket.readyState !== OPEN)) return
        const result: unknown = await callProcedure({ router, path, getRawInput: async () => input, ctx, type, signal: stop.signal, batchIndex })
        const iterable = isAsyncIterable(result) || isObservable(result)
        if (type !== 'subscription') {
          if (iterable) throw new TRPCError({ code: 'UNSUPPORTED_MEDIA_TYPE', message: `Cannot return an async iterable or observable from a ${type} procedure with WebSockets` })
          return send({ id, jsonrpc, result: { type: 'data', data: result } })
        }
        if (!iterable) throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `Subscription ${path} did not return an observable or a AsyncGenerator` })
        const events = isObservable(result) ? observableToAsyncIterable(result, stop.signal) : (result as AsyncIterable<unknown>)
        // A shape subscription's events are read a batch at a time (subscription.ts).
        const batched = (events as { [eventBatches]?: EventBatches<unknown> })[eventBatches]
        const iterator = batched?.batches ?? events[Symbol.asyncIterator]()
        try {
          if (stop.signal.aborted || socket.readyState !== OPEN) return
          send({ id, jsonrpc, result: { type: 'started' } })
          started = true
          await pump(iterator, batched?.flow, id, jsonrpc, stop.signal)
        } finally {
          stop.abort()
          await iterator.return?.()
        }
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause)
        // A procedure that gave up because its subscription was stopped: how a stop is expected to end.
        if (!(stop.signal.aborted && isAbortError(error.cause))) {
          fail(id, jsonrpc, error, type, path, input)
          refused = !started
        }
      } finally {
        if (type === 'subscription') {
          subscriptions.delete(id)
          if (!refused) send({ id, jsonrpc, result: { type: 'stopped' } })
        }
      }
    }

    /** Sends one event of a subscription. */
    const sendEvent = (id: RequestId, jsonrpc: '2.0' | undefined, value: unknown) => {
      if (!isTrackedEnvelope(value)) return send({ id, jsonrpc, result: { type: 'data', data: value } })
      const [eventId, data] = value
      const frame = trackedFrame(output, id, jsonrpc, eventId, data)
      if (frame !== undefined) sendText(frame)
      else send({ id, jsonrpc, result: { type: 'data', id: eventId, data: { id: eventId, data } } })
    }

    /**
     * Sends each event of `iterator` until it ends or `signal` stops the subscription. With `flow`, the
     * iterator yields batches, and each event of a batch waits while the socket's buffer is full.
     */
    async function pump(iterator: AsyncIterator<unknown>, flow: FlowControl | undefined, id: RequestId, jsonrpc: '2.0' | undefined, signal: AbortSignal): Promise<void> {
      // A stop resolves the wait for the next event, whatever the iterator does.
      let stopWaiting: ((stopped: typeof STOPPED) => void) | undefined
      let stopped = false
      const onStop = () => {
        stopped = true
        stopWaiting?.(STOPPED)
      }
      signal.addEventListener('abort', onStop, { once: true })
      const highWater = flow?.highWaterBytes ?? defaultHighWater
      try {
        for (;;) {
          const next = await new Promise<IteratorResult<unknown> | typeof STOPPED>((resolve, reject) => {
            stopWaiting = resolve
            iterator.next().then(resolve, reject)
          })
          if (next === STOPPED || next.done || stopped) return
          if (!flow) {
            sendEvent(id, jsonrpc, next.value)
            continue
          }
          const batch = next.value as unknown[]
          let i = 0
          while (i < batch.length) {
            if (socket.bufferedAmount > highWater) {
              await whenWritable(socket, flow, signal)
              if (stopped || socket.readyState !== OPEN) return
            }
            // The batch leaves in one write, at once; the buffer is checked before each event.
            corked(socket, () => {
              do sendEvent(id, jsonrpc, batch[i++])
              while (i < batch.length && socket.bufferedAmount <= highWater)
            })
          }
        }
      } finally {
        signal.removeEventListener('abort', onStop)
      }
    }

    if (options.keepAlive?.enabled) handleKeepAlive(socket, options.keepAlive.pingMs, options.keepAlive.pongWaitMs)

    socket.on('message', (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const text = isBinary ? undefined : raw.toString()
      if (text === 'PONG') return
      if (text === 'PING') return sendText('PONG')
      if (text === undefined) return fail(null, undefined, new TRPCError({ code: 'UNPROCESSABLE_CONTENT', message: 'Unexpected WebSocket message format' }))
      if (!context) {
        context = makeContext(() => {
          let parsed: unknown
          try {
            parsed = JSON.parse(text)
            if (!isObject(parsed)) throw new Error('Message was not an object')
          } catch (cause) {
            throw new TRPCError({ code: 'PARSE_ERROR', message: 'Malformed TRPCConnectionParamsMessage', cause })
          }
          return parseConnectionParamsFromUnknown(parsed.data)
        })
        return
      }
      let messages: TRPCClientOutgoingMessage[]
      try {
        const parsed: unknown = JSON.parse(text)
        messages = (Array.isArray(parsed) ? parsed : [parsed]).map((m) => parseTRPCMessage(m, config.transformer))
      } catch (cause) {
        return fail(null, undefined, new TRPCError({ code: 'PARSE_ERROR', cause }))
      }
      const ready = context
      messages.forEach((message, index) => {
        handle(message, index, ready).catch((cause: unknown) => report({ error: getTRPCErrorFromUnknown(cause), type: 'unknown', path: undefined, input: undefined }))
      })
    })
    socket.on('error', (cause) => report({ error: getTRPCErrorFromUnknown(cause), type: 'unknown', path: undefined, input: undefined }))
    socket.once('close', () => {
      for (const stop of subscriptions.values()) stop.abort()
      subscriptions.clear()
      closed.abort()
    })
  }
}

const STOPPED = Symbol('stopped')

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

const isAbortError = (error: unknown) => isObject(error) && error.name === 'AbortError'
