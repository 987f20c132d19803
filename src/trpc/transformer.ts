// The data transformer for routers that serve shapes: superjson (Date, bigint, Uint8Array, Map...) with
// Prisma's Decimal registered, and the serialized form of each shared change event cached, so an event
// delivered to a thousand subscribers is serialized once. Use it in `initTRPC.create({ transformer })`;
// the client side (`trpc-sync/client`) registers the same Decimal type.
import { Decimal } from '@prisma/client/runtime/client'
import SuperJSON from 'superjson'
import type { SuperJSONResult } from 'superjson'

/** Events whose serialized form may be cached: immutable objects shared by every reader of a log entry. */
const shared = new WeakSet<object>()
const untrackedCache = new WeakMap<object, SuperJSONResult>()
const trackedCache = new WeakMap<object, { id: string; result: SuperJSONResult }>()
/** Every cached result, with its JSON text once something asked for it. */
const jsonCache = new WeakMap<SuperJSONResult, string | undefined>()

/** Immutable objects of plain JSON values (no Date, bigint...), which superjson would return as `{ json }`. */
const plain = new WeakSet<object>()

/** Marks an event as shared and immutable, so its serialization can be reused. */
export function shareEncoding(event: object): void {
  shared.add(event)
}

/** Whether `value` is an event marked shared and immutable (its serialization may be reused). */
export const isShared = (value: unknown): value is object => typeof value === 'object' && value !== null && shared.has(value)

/** Marks an immutable object as plain JSON: serialized without walking it. */
export function plainJson<T extends object>(value: T): T {
  plain.add(value)
  return value
}

/** The JSON text of a serialized result the transformer cached, or `undefined` for any other value. */
export function cachedJson(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || !jsonCache.has(value as SuperJSONResult)) return undefined
  let text = jsonCache.get(value as SuperJSONResult)
  if (text === undefined) jsonCache.set(value as SuperJSONResult, (text = JSON.stringify(value)))
  return text
}

/** Prisma's Decimal as superjson custom type `Decimal` (a decimal string on the wire). */
export function registerDecimal(superjson: SuperJSON): void {
  superjson.registerCustom<Decimal, string>({
    isApplicable: (value): value is Decimal => Decimal.isDecimal(value),
    serialize: (value) => value.toFixed(),
    deserialize: (text) => new Decimal(text),
  }, 'Decimal')
}

/** Transformers whose superjson has no types registered but Decimal: superjson-text.ts writes their output. */
const plainSuperjson = new WeakSet<object>()

/** Whether `transformer` is a sync transformer over superjson with only the Decimal type registered. */
export const writesPlainSuperjson = (transformer: object): boolean => plainSuperjson.has(transformer)

export interface SyncTransformer {
  serialize(value: unknown): SuperJSONResult
  deserialize(payload: unknown): unknown
}

/** A transformer over `superjson` (default: a new instance) with Decimal registered and shared events cached. */
export function createSyncTransformer(given?: SuperJSON): SyncTransformer {
  const superjson = given ?? new SuperJSON()
  registerDecimal(superjson)
  const remember = (result: SuperJSONResult) => {
    jsonCache.set(result, undefined)
    return result
  }
  const transformer: SyncTransformer = {
    serialize(value) {
      if (typeof value !== 'object' || value === null) return superjson.serialize(value)
      if (shared.has(value)) {
        let result = untrackedCache.get(value)
        if (!result) untrackedCache.set(value, (result = remember(superjson.serialize(value))))
        return result
      }
      if (plain.has(value)) return { json: value as SuperJSONResult['json'] }
      // A tracked event as the WebSocket adapter wraps it: `{ id, data }`.
      const { id, data } = value as { id?: unknown; data?: unknown }
      if (typeof id !== 'string' || typeof data !== 'object' || data === null || Object.keys(value).length !== 2) return superjson.serialize(value)
      if (plain.has(data)) return { json: value as SuperJSONResult['json'] }
      if (shared.has(data)) {
        const cached = trackedCache.get(data)
        if (cached?.id === id) return cached.result
        const result = remember(superjson.serialize(value))
        trackedCache.set(data, { id, result })
        return result
      }
      return superjson.serialize(value)
    },
    // In place: tRPC parses each message afresh, and superjson's copy would silently drop `__proto__`
    // keys, turning `{ "__proto__": { title: 'x' } }` into `{}` (a wider filter) instead of letting the
    // input's schema refuse the key (sync.where does, naming the path).
    deserialize: (payload) => superjson.deserialize(payload as SuperJSONResult, { inPlace: true }),
  }
  if (!given) plainSuperjson.add(transformer)
  return transformer
}

export const syncTransformer: SyncTransformer = createSyncTransformer()
