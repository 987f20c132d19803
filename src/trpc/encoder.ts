// The WebSocket encoder: JSON like tRPC's own, except that a subscription result whose data the sync
// transformer cached is written around that data's JSON text, computed once per event rather than
// once per subscriber.
import type { Encoder } from '@trpc/server/adapters/ws'
import { cachedJson } from './transformer.js'

interface ResultMessage {
  id: unknown
  jsonrpc?: unknown
  result: { type: unknown; id?: unknown; data: unknown }
}

export const syncEncoder: Encoder = {
  encode(message) {
    const text = resultMessage(message) ? cachedJson(message.result.data) : undefined
    if (text === undefined) return JSON.stringify(message)
    const { id, jsonrpc, result } = message as ResultMessage
    let out = `{"id":${JSON.stringify(id)}`
    if (jsonrpc !== undefined) out += `,"jsonrpc":${JSON.stringify(jsonrpc)}`
    out += `,"result":{"type":${JSON.stringify(result.type)}`
    if (result.id !== undefined) out += `,"id":${JSON.stringify(result.id)}`
    return `${out},"data":${text}}}`
  },
  decode(data) {
    if (typeof data !== 'string') throw new Error('trpc-sync: expected a text frame')
    return JSON.parse(data)
  },
}

/** A `{ id, jsonrpc?, result: { type, id?, data } }` message with no other fields. */
function resultMessage(message: unknown): message is ResultMessage {
  if (typeof message !== 'object' || message === null) return false
  const m = message as Partial<ResultMessage>
  if (typeof m.result !== 'object' || m.result === null) return false
  for (const key in m) if (key !== 'id' && key !== 'jsonrpc' && key !== 'result') return false
  for (const key in m.result) if (key !== 'type' && key !== 'id' && key !== 'data') return false
  return true
}
