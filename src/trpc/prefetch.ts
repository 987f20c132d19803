// Server-side rendering of shape subscriptions: read a shape to its first up-to-date and hand the page a
// snapshot of its rows with the id of that up-to-date, signed as the subscription signs it. The browser
// starts from the snapshot and subscribes with that id as `lastEventId`, so it receives only what
// changed after the render — no second copy of the rows, and nothing lost in between.
import { isTrackedEnvelope, type TrackedEnvelope } from '@trpc/server'
// One definition for both sides (the client package is browser-safe).
import type { ShapeSnapshot } from '../../client/live-shape.js'
import type { SyncEvent } from '../sync/events.js'
import type { Shape } from '../sync/shape.js'
import type { Sync } from '../sync/sync.js'
import { eventIdsFor, trackedEvents } from './subscription.js'
import { syncTransformer } from './transformer.js'

export type { ShapeSnapshot }

/**
 * What a shape subscription yields: `tracked()` envelopes (as the resolver returns them; a server-side
 * caller's type names them `{ id, data }`).
 */
export type ShapeSubscriptionOutput<Row> = AsyncIterable<TrackedEnvelope<SyncEvent<Row>> | { id: string; data: SyncEvent<Row> }>

export interface PrefetchOptions {
  /** Stops reading (e.g. the request was aborted); the promise rejects. */
  signal?: AbortSignal
}

/**
 * Reads a shape subscription to its first up-to-date, then ends it. Pass what a server-side caller
 * returns, so the procedure's middleware, input parsing and shape function (auth included) decide the
 * shape exactly as for the WebSocket subscription: `await prefetch(appRouter.createCaller(ctx).todos.sync(input))`.
 */
export async function prefetch<Row>(
  subscription: ShapeSubscriptionOutput<Row> | Promise<ShapeSubscriptionOutput<Row>>, options: PrefetchOptions = {},
): Promise<ShapeSnapshot<Row>> {
  const rows = new Map<string, Row>()
  let bounds: ShapeSnapshot<Row>['bounds'] = null
  const txids = new Set<number>()
  for await (const item of await subscription) {
    options.signal?.throwIfAborted()
    const [id, event] = isTrackedEnvelope<SyncEvent<Row>>(item) ? item : [item.id, item.data]
    switch (event.type) {
      case 'insert':
      case 'update':
      case 'delete':
        if (event.type === 'delete') rows.delete(event.key)
        else rows.set(event.key, event.row)
        for (const txid of event.txids) txids.add(txid)
        if (event.upToDate) return { rows: [...rows], lastEventId: id, bounds, txids: [...txids] }
        break
      case 'must-refetch':
        rows.clear()
        bounds = null
        txids.clear()
        break
      case 'snapshot-end':
        bounds = { xmin: event.xmin, xmax: event.xmax, xip: event.xip }
        break
      case 'up-to-date':
        return { rows: [...rows], lastEventId: id, bounds, txids: [...txids] }
    }
  }
  options.signal?.throwIfAborted()
  throw new Error('prefetch: the subscription ended before its first up-to-date')
}

/**
 * `prefetch` for a shape at hand, without a router: the ids are signed with `secret`, which must be
 * the `secret` of the subscription the client will resume with (default: that of subscriptions
 * without one, in this process).
 */
export function prefetchShape<Row>(sync: Sync, shape: Shape<Row>, options: PrefetchOptions & { secret?: string | Uint8Array } = {}): Promise<ShapeSnapshot<Row>> {
  const { secret, signal } = options
  return prefetch(trackedEvents(sync, shape, { ids: eventIdsFor(secret), flow: {}, signal, socket: undefined, lastEventId: undefined }), { signal })
}

/**
 * The snapshot as JSON text (superjson: Dates, bigints and Decimals survive) that is safe inside
 * `<script type="application/json">`; read it with `parseSnapshot` from `trpc-sync/client`.
 */
export function serializeSnapshot(snapshot: ShapeSnapshot<unknown>): string {
  return JSON.stringify(syncTransformer.serialize(snapshot)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
