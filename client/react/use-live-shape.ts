// `useLiveShape(trpc.todos.sync, input, { initial })`: a shape subscription's rows as React state. With
// `initial` (the server's `prefetch` of the same procedure and input) the server renders those rows,
// hydration sees the same, and the browser subscribes from the snapshot's position: no refetch.
import { useMemo, useState, useSyncExternalStore } from 'react'
import { liveShape, type LiveShapeOptions, type ShapeProcedure } from '../live-shape.js'
import { inputKey } from './input-key.js'
import { LiveShapeStore, type LiveShapeState } from './store.js'

export type UseLiveShapeOptions<Row> = LiveShapeOptions<Row>

export interface UseLiveShapeResult<Row> extends LiveShapeState<Row> {
  /**
   * Resolves once the txid (of a mutation's `{ txid }`) is applied, with the re-render that shows it
   * already scheduled (wrap state updates in `flushSync` to see both on screen together); see `LiveShape.awaitTxId`.
   */
  awaitTxId(txid: number, options?: { timeout?: number }): Promise<void>
}

/**
 * The live rows of a shape subscription procedure. The subscription opens after mount, closes on
 * unmount, and restarts when `input` changes by value. `initial` belongs to the input the component
 * mounts with (another input starts without rows; remount with a `key` to start from a new snapshot).
 * `procedure` is read when a subscription opens.
 */
export function useLiveShape<TInput, Row>(
  procedure: ShapeProcedure<TInput, Row>, input: TInput, options: UseLiveShapeOptions<NoInfer<Row>> = {},
): UseLiveShapeResult<Row> {
  const key = inputKey(input)
  const create = (from: UseLiveShapeOptions<Row>['initial']) =>
    new LiveShapeStore<Row>(key, (initial) => liveShape(procedure, input, { ...options, initial }), from)
  const [first] = useState(() => create(options.initial))
  // Keyed by the input's value (not by `input` or `procedure`, new objects on most renders).
  const store = useMemo(() => (key === first.key ? first : create(undefined)), [first, key])
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getServerSnapshot)
  return { ...state, awaitTxId: store.awaitTxId }
}
