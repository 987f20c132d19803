// The event format of every Prisma-facing reader (sync.stream, sync.live, tRPC subscriptions, live
// views): full rows with Prisma field names and the JS values findMany returns.
import type { ModelMeta } from '../shape/model.js'
import { parseRow } from '../shape/values.js'
import { isChangeMessage, type ChangeMessage, type Value } from '../source/messages.js'
import type { StreamItem } from '../source/stream.js'
// One definition for both sides: the client package is browser-safe, so the server imports its types.
import type { SyncEvent } from '../../client/events.js'

export type { SyncEvent }

/** An event with the position to resume from after it. */
export type PositionedEvent<Row> = SyncEvent<Row> & { handle: string; offset: string }

/**
 * Converts Electric messages (of a `replica: 'full'` log) to events. Change events are cached per
 * message, so every reader of a shared log shares one parsed row.
 */
export function eventConverter<Row>(model: ModelMeta | undefined): (item: StreamItem) => SyncEvent<Row> {
  const cache = new WeakMap<ChangeMessage, SyncEvent<Row>>()
  const parse = (value: Value): Row => (model ? parseRow(model, value) : { ...value }) as Row
  return ({ message }) => {
    if (!isChangeMessage(message)) {
      const h = message.headers
      if (h.control === 'snapshot-end') return { type: 'snapshot-end', xmin: h.xmin, xmax: h.xmax, xip: h.xip_list }
      return { type: h.control }
    }
    const cached = cache.get(message)
    if (cached) return cached
    const event = changeEvent(message)
    cache.set(message, event)
    return event
  }

  function changeEvent({ key, value, old_value, headers }: ChangeMessage): SyncEvent<Row> {
    const txids = headers.txids ?? []
    const row = parse(value)
    if (headers.operation !== 'update') return { type: headers.operation, key, row, txids }
    const changes: Partial<Row> = {}
    for (const column of Object.keys(old_value ?? {})) {
      const field = model?.byColumn.get(column)?.name ?? column
      ;(changes as Record<string, unknown>)[field] = (row as Record<string, unknown>)[field]
    }
    return { type: 'update', key, row, changes, txids }
  }
}
