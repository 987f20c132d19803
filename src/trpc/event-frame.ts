// The WebSocket frame of a tracked subscription event, `{ id, result: { type: 'data', id, data: { id, data } } }`
// after the router's transformer, as tRPC's adapter would send it. For an event marked shared (a log
// entry's change, one immutable object for every reader of that entry) the transformer runs once per
// event, on `{ id: '', data }` (written directly by superjson-text.ts for the sync transformer), and each
// reader's frame is that text with its own ids written in: a thousand readers of one change cost one
// serialization and a thousand string joins. The texts are kept for recent events only (readers of one
// entry read it at about the same time; a late reader's frame costs one more serialization), so a log
// does not hold a second copy of every entry for its life.
import { superjsonText } from './superjson-text.js'
import { isShared, writesPlainSuperjson } from './transformer.js'

export interface OutputTransformer {
  serialize(value: unknown): unknown
}

type Parts = { transformer: OutputTransformer; before: string; after: string } | { transformer: OutputTransformer; before: undefined }

/** How many events' texts are kept (in each of two generations). */
const RECENT = 4096
let recent = new Map<object, Parts>()
let older = new Map<object, Parts>()

function cached(data: object, transformer: OutputTransformer): Parts {
  let parts = recent.get(data)
  if (parts?.transformer === transformer) return parts
  parts = older.get(data)
  if (parts?.transformer !== transformer) parts = split(transformer, data)
  if (recent.size >= RECENT) {
    older = recent
    recent = new Map()
  }
  recent.set(data, parts)
  return parts
}

// `{ id: '', data }` as JSON starts so with superjson (`{ json, meta }`) and with no transformer.
const heads = ['{"json":{"id":""', '{"id":""']

/** The frame's text, or `undefined` when `data` is not shared or the transformer's output has an unknown form. */
export function trackedFrame(transformer: OutputTransformer, subscriptionId: string | number, jsonrpc: '2.0' | undefined, eventId: string, data: unknown): string | undefined {
  if (!isShared(data)) return undefined
  const parts = cached(data, transformer)
  if (parts.before === undefined) return undefined
  const id = JSON.stringify(eventId)
  const rpc = jsonrpc === undefined ? '' : ',"jsonrpc":"2.0"'
  return `{"id":${JSON.stringify(subscriptionId)}${rpc},"result":{"type":"data","id":${id},"data":${parts.before}${id}${parts.after}}}`
}

function split(transformer: OutputTransformer, data: object): Parts {
  const wrapped = { id: '', data }
  const text = (writesPlainSuperjson(transformer) ? superjsonText(wrapped) : undefined) ?? JSON.stringify(transformer.serialize(wrapped))
  const head = heads.find((h) => text.startsWith(h))
  if (head === undefined) return { transformer, before: undefined }
  return { transformer, before: head.slice(0, -2), after: text.slice(head.length) }
}
