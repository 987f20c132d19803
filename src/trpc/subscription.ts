// `sync.subscription(build)`: a tRPC v11 subscription resolver that serves a shape. `build` gets the
// procedure's `{ ctx, input, signal }` and decides the shape (auth lives there: a TRPCError it throws
// reaches the client before any data). Every event is `tracked()` with a signed position, so a client
// that reconnects with `lastEventId` resumes exactly where it was.
import { tracked, type TrackedEnvelope } from '@trpc/server'
import type { WebSocket } from 'ws'
import { classifyError } from '../source/errors.js'
import { isClientError } from '../source/source.js'
import { sourceError } from './errors.js'
import type { SyncEvent } from '../sync/events.js'
import type { Shape } from '../sync/shape.js'
import type { Sync } from '../sync/sync.js'
import { EventIds, type EventKind, type EventPosition } from './event-id.js'
import { holdSubscription } from './connection-limits.js'
import { defaultHighWater, OPEN, socketOf, whenWritable, type FlowControl } from './socket.js'
import { plainJson, shareEncoding } from './transformer.js'
import { abortedFlag } from '../source/abort-flag.js'
import { heldTooLong, nextTurn } from '../source/turn-budget.js'

export interface SubscriptionOptions extends FlowControl {
  /**
   * Key that signs event ids. Default: one random key per process, so ids from before a restart give
   * must-refetch (as they would anyway with the embedded engine, whose handles change on restart).
   */
  secret?: string | Uint8Array
}

/** What the resolver reads from tRPC's options. */
export interface SubscriptionResolverOptions<C, I> {
  ctx: C
  input: I
  signal: AbortSignal | undefined
}

export type ShapeBuilder<C, I, Row> = (opts: SubscriptionResolverOptions<C, I>) => Shape<Row> | Promise<Shape<Row>>

export type ShapeSubscriptionResolver<C, I, Row> =
  (opts: SubscriptionResolverOptions<C, I>) => Promise<AsyncGenerator<TrackedEnvelope<SyncEvent<Row>>, void>>

const defaultIds = new EventIds()

/** The EventIds a subscription with this `secret` signs with (one shared default per process). */
export const eventIdsFor = (secret: string | Uint8Array | undefined) => secret === undefined ? defaultIds : new EventIds(secret)

export function shapeSubscription<C, I, Row>(
  sync: Sync, build: ShapeBuilder<C, I, Row>, options: SubscriptionOptions = {},
): ShapeSubscriptionResolver<C, I, Row> {
  const ids = eventIdsFor(options.secret)
  return async (opts) => {
    // Built before the stream starts, so an auth error is the client's answer, with no data.
    const shape = await Promise.resolve(opts).then(build).catch((error: unknown) => {
      throw classifyError(error) === 'request' ? sourceError(error) : error
    })
    // Counted until the subscription ends: unsubscribed or closed (the signal), or its stream finished.
    const release = holdSubscription(opts.ctx, shape.definition, sync.limits)
    opts.signal?.addEventListener('abort', release, { once: true })
    try {
      return trackedEvents(sync, shape, {
        ids, flow: options, signal: opts.signal, socket: socketOf(opts.ctx), lastEventId: await lastEventIdOf(opts), onEnd: release,
      })
    } catch (error) {
      release()
      throw error
    }
  }
}

/**
 * tRPC passes `lastEventId` inside the input; a strict input schema may strip it, so it is read from the
 * raw input too (tRPC hands resolvers `getRawInput`).
 */
async function lastEventIdOf(opts: SubscriptionResolverOptions<unknown, unknown>): Promise<string | undefined> {
  const fromInput = (opts.input as { lastEventId?: unknown } | undefined)?.lastEventId
  if (typeof fromInput === 'string' && fromInput !== '') return fromInput
  const getRawInput = (opts as { getRawInput?: () => Promise<unknown> }).getRawInput
  const raw = (await getRawInput?.().catch(() => undefined)) as { lastEventId?: unknown } | undefined
  return typeof raw?.lastEventId === 'string' && raw.lastEventId !== '' ? raw.lastEventId : undefined
}

export interface StreamContext {
  ids: EventIds
  flow: FlowControl
  signal: AbortSignal | undefined
  socket: WebSocket | undefined
  lastEventId: string | undefined
  /** Called once the stream ends, however it ends (in the generator itself: no wrapper generator per event). */
  onEnd?: () => void
}

// Control events without data: one object for every reader, serialized without a superjson walk, and
// shared (its frame text made once, event-frame.ts).
const control = <E extends object>(event: E): E => {
  shareEncoding(event)
  return plainJson(event)
}
const mustRefetch: SyncEvent<never> = control({ type: 'must-refetch' })
const upToDate: SyncEvent<never> = control({ type: 'up-to-date' })

/** Rows of the initial snapshot share their chunk's offset: re-reading from it repeats them. */
const isSnapshotOffset = (offset: string) => offset === '-1' || offset.startsWith('0_')

/** A subscription's events as the resolver returns them, with the batches they are made of for our WebSocket handler. */
export type TrackedEvents<Row> = AsyncGenerator<TrackedEnvelope<SyncEvent<Row>>, void> & {
  [eventBatches]: EventBatches<TrackedEnvelope<SyncEvent<Row>>>
}

/** The batches, and the flow control their sender applies before each event of a batch. */
export interface EventBatches<E> {
  batches: AsyncGenerator<E[], void>
  flow: FlowControl
}

/** Where a TrackedEvents keeps its batches: ws-connection.ts reads those, any other adapter the events. */
export const eventBatches = Symbol('trpc-sync.eventBatches')

/** Largest batch handed on at once (its sender checks flow control before each of its events too). */
const MAX_BATCH = 256

export function trackedEvents<Row>(sync: Sync, shape: Shape<Row>, context: StreamContext): TrackedEvents<Row> {
  const batches = trackedBatches(sync, shape, context)
  async function* events() {
    for await (const batch of batches) yield* batch
  }
  return Object.assign(events(), { [eventBatches]: { batches, flow: context.flow } })
}

async function* trackedBatches<Row>(sync: Sync, shape: Shape<Row>, context: StreamContext): AsyncGenerator<TrackedEnvelope<SyncEvent<Row>>[], void> {
  try {
    const { ids, signal, socket } = context
    const aborted = abortedFlag(signal)
    const highWater = context.flow.highWaterBytes ?? defaultHighWater
    let resume = context.lastEventId === undefined ? undefined : ids.decode(context.lastEventId)
    let out: TrackedEnvelope<SyncEvent<Row>>[] = []
    // Forged, malformed or signed with another key: start over, telling the client to drop what it has.
    if (context.lastEventId !== undefined && !resume) yield [tracked(ids.encode(restart('_')), mustRefetch)]

    for (;;) {
      let delivered = false
      // Snapshot rows of the resume position's chunk still to skip (the client has them).
      let toSkip = resume?.kind === 'row' ? resume.skip : 0
      // Rows delivered so far at the current (handle, snapshot offset).
      let rowGroup = resume?.kind === 'row' ? `${resume.handle}:${resume.offset}` : ''
      let rowCount = toSkip
      // The last event delivered, to drop an up-to-date that repeats it (idle long-poll timeouts).
      let last: EventPosition | undefined = resume
      // An up-to-date that directly follows a change rides on it (`upToDate: true`, client/events.ts): one
      // frame, not two. The change keeps its own id, so an event's id stays a function of its position
      // whatever the batching (tRPC's wsLink, moving a subscription to a new socket, drops the new one's
      // events whose ids the old one sent). Whether they join must not depend on when batches are handed
      // on either, so a change that may be joined stays behind in `out` when the rest goes (its
      // up-to-date, if any, is the stream's next event, which comes without waiting for a new commit: a
      // response that does not end with an up-to-date is followed by another at once).
      // A resumed subscription joins none until it has sent an up-to-date of its own: the events it
      // starts with may be the ones wsLink drops as already seen, and a dropped joined change would drop
      // its up-to-date with it.
      let joining = resume === undefined
      let joinable: EventPosition | undefined
      /** Hands on `out`, all but a change that may still be joined. */
      function* handOn(): Generator<TrackedEnvelope<SyncEvent<Row>>[]> {
        const held = joinable ? [out.pop()!] : []
        if (out.length > 0) yield out
        out = held
      }
      try {
        for await (const batch of sync.eventBatches(shape, { offset: resume?.offset, handle: resume?.handle, signal, turnGroup: socket })) {
          for (const { event, handle, offset } of batch) {
            if (toSkip > 0) {
              if (handle !== resume!.handle) {
                // Resuming inside the first chunk (offset -1) found a different log: the client's rows are stale.
                toSkip = 0
                rowGroup = ''
                joinable = undefined
                out.push(tracked(ids.encode(restart(handle)), mustRefetch))
              } else if (offset === resume!.offset && isChange(event)) {
                toSkip--
                continue
              } else {
                toSkip = 0
              }
            }
            const kind = kindOf(event, offset)
            let skip = 0
            if (kind === 'row') {
              const group = `${handle}:${offset}`
              rowCount = group === rowGroup ? rowCount + 1 : 1
              rowGroup = group
              skip = rowCount
            } else {
              rowGroup = ''
              if (kind === 'up-to-date' && last?.kind === 'up-to-date' && last.offset === offset && last.handle === handle) continue
            }
            const position: EventPosition = { kind, skip, offset, handle }
            if (isChange(event)) shareEncoding(event)
            // Waits hand on what is ready first: a wait is for what the client has been sent.
            if (socket && (socket.bufferedAmount > highWater || out.length >= MAX_BATCH)) {
              yield* handOn()
              await whenWritable(socket, context.flow, signal)
            }
            // Subscriptions woken together (by one commit, a drain) or sending a large snapshot take turns by
            // connection, so none holds the event loop and no connection's changes wait behind another's.
            if (heldTooLong()) {
              yield* handOn()
              while (heldTooLong()) await nextTurn(socket)
            }
            if (aborted()) return
            if (socket && socket.readyState !== OPEN) return // closing: nothing more can be sent
            last = position
            delivered = true
            const previous = out.at(-1)
            if (kind === 'up-to-date' && previous && joinable?.offset === offset && joinable.handle === handle) {
              out[out.length - 1] = tracked(previous[0], endingBatch(previous[1]))
              joinable = undefined
              continue
            }
            out.push(tracked(ids.encode(position), event.type === 'up-to-date' ? upToDate : event))
            if (kind === 'up-to-date') joining = true
            joinable = joining && kind === 'change' ? position : undefined
          }
          yield* handOn()
        }
        if (out.length > 0) yield out
        return
      } catch (error) {
        // The resume position no longer exists (e.g. an offset past the log after a restart): start over.
        if (!resume || delivered || aborted() || !isClientError(error)) throw sourceError(error)
        resume = undefined
        out = []
        yield [tracked(ids.encode(restart('_')), mustRefetch)]
      }
    }
  } finally {
    context.onEnd?.()
  }
}

/** One shared object per change: the change with `upToDate` (client/events.ts), encoded once for every reader. */
const ending = new WeakMap<object, object>()
function endingBatch<E extends object>(change: E): E {
  let joined = ending.get(change)
  if (!joined) {
    ending.set(change, (joined = { ...change, upToDate: true }))
    shareEncoding(joined)
  }
  return joined as E
}

const restart = (handle: string): EventPosition => ({ kind: 'must-refetch', skip: 0, offset: '-1', handle })

const isChange = <Row>(event: SyncEvent<Row>): event is Extract<SyncEvent<Row>, { key: string }> =>
  event.type === 'insert' || event.type === 'update' || event.type === 'delete'

function kindOf<Row>(event: SyncEvent<Row>, offset: string): EventKind {
  if (isChange(event)) return isSnapshotOffset(offset) ? 'row' : 'change'
  return event.type
}
