// Per-connection limits of tRPC subscriptions: how many subscriptions one connection holds open
// (limits.subscriptionsPerConnection) and how many distinct shape definitions they read
// (limits.shapesPerConnection). A connection is its WebSocket (createSyncWSServer puts it into the
// context) or else the context object itself (tRPC's ws adapter makes one per connection). A
// subscription is counted from the moment its shape is decided until it ends (the client unsubscribes,
// the connection closes, or the stream fails), so over a limit the client is answered at once, before
// any shape is created.
import { TRPCError } from '@trpc/server'
import { LimitError, type SyncLimits } from '../limits/index.js'
import type { ShapeDefinition } from '../shape/definition.js'
import { socketOf } from './socket.js'

interface Holdings {
  subscriptions: number
  /** Open subscriptions per shape definition (its identity, see definitionKey). */
  shapes: Map<string, number>
}

const connections = new WeakMap<object, Holdings>()

/**
 * Counts a new subscription of `definition` on the connection of `ctx`; throws BAD_REQUEST naming the
 * limit when it would pass one. Returns the release (idempotent) to call when the subscription ends.
 */
export function holdSubscription(
  ctx: unknown, definition: ShapeDefinition, limits: Pick<SyncLimits, 'subscriptionsPerConnection' | 'shapesPerConnection'>,
): () => void {
  const connection = socketOf(ctx) ?? (typeof ctx === 'object' && ctx !== null ? ctx : undefined)
  if (!connection) return () => {}
  let holdings = connections.get(connection)
  if (!holdings) connections.set(connection, (holdings = { subscriptions: 0, shapes: new Map() }))
  if (holdings.subscriptions >= limits.subscriptionsPerConnection) {
    throw refused(new LimitError('subscriptionsPerConnection', limits.subscriptionsPerConnection,
      'Too many subscriptions open on this connection; end one first'))
  }
  const key = definitionKey(definition)
  const held = holdings.shapes.get(key) ?? 0
  if (held === 0 && holdings.shapes.size >= limits.shapesPerConnection) {
    throw refused(new LimitError('shapesPerConnection', limits.shapesPerConnection,
      'Too many distinct shapes subscribed on this connection; end a subscription first'))
  }
  holdings.subscriptions++
  holdings.shapes.set(key, held + 1)
  let released = false
  const owner = holdings
  return () => {
    if (released) return
    released = true
    owner.subscriptions--
    const left = (owner.shapes.get(key) ?? 1) - 1
    if (left > 0) owner.shapes.set(key, left)
    else owner.shapes.delete(key)
  }
}

const refused = (error: LimitError) => new TRPCError({ code: 'BAD_REQUEST', message: error.message, cause: error })

/** A shape definition's identity: the engine keeps one log per distinct one. */
function definitionKey(d: ShapeDefinition): string {
  return JSON.stringify([d.namespace, d.table, d.where ?? null, d.params ?? [], d.columns ? [...d.columns].sort() : null, d.replica])
}
