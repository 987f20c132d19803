// A shape's `transform` applied to messages on their way out. Without a transform the log's encoded JSON
// is sent as is (encoded once, shared by every reader); with one, each change message is copied,
// transformed and encoded for this response only.
import { isChangeMessage, type ChangeMessage, type Message } from '../source/messages.js'
import type { ShapeTransform } from '../sync/shape.js'

/** JSON texts of `messages` (whose shared encodings are `encoded`) after the transform. */
export function encodeMessages(messages: readonly Message[], encoded: readonly string[], transform: ShapeTransform | undefined): string[] {
  if (!transform) return encoded as string[]
  const out: string[] = []
  messages.forEach((message, i) => {
    if (!isChangeMessage(message)) out.push(encoded[i]!)
    else for (const m of applyTransform(transform, message)) out.push(JSON.stringify(m))
  })
  return out
}

/** The transform's output for one change message, as a list (`null` / `undefined` / `[]` drop it). */
export function applyTransform(transform: ShapeTransform, message: ChangeMessage): readonly ChangeMessage[] {
  const result = transform(copy(message))
  if (result === null || result === undefined) return []
  return Array.isArray(result) ? result : [result as ChangeMessage]
}

/** Transforms see a private copy: the original is shared by every reader of the log. */
function copy(message: ChangeMessage): ChangeMessage {
  const headers = { ...message.headers }
  if (headers.txids) headers.txids = [...headers.txids]
  const out: ChangeMessage = { key: message.key, value: { ...message.value }, headers }
  if (message.old_value) out.old_value = { ...message.old_value }
  return out
}
