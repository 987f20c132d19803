// A TanStack DB sync config fed by a shape subscription. The events between two up-to-dates are one
// sync transaction (begin … commit), so the collection only shows states the database had; a
// must-refetch truncates inside that transaction and the snapshot that follows refills it. Reconnects
// are the tRPC client's: it resubscribes from the last tracked event.
import type { SyncConfig } from '@tanstack/db'
import type { ShapeProcedure } from '../live-shape.js'
import type { SnapshotBounds } from '../txid.js'
import type { TxidTracker } from '../txid.js'

export interface ShapeSyncOptions<Row, TInput> {
  subscription: ShapeProcedure<TInput, Row>
  input: TInput
  txids: TxidTracker
  onError: (error: unknown) => void
}

type SyncParams<Row extends object, TKey extends string | number> = Parameters<SyncConfig<Row, TKey>['sync']>[0]

export function shapeSync<Row extends object, TKey extends string | number, TInput>(
  options: ShapeSyncOptions<Row, TInput>,
): SyncConfig<Row, TKey> {
  let active = false
  return {
    // Updates carry the whole row.
    rowUpdateMode: 'full',
    sync(params) {
      // One tracker serves one collection: its utils are not told apart per collection.
      if (active) throw new Error('trpcCollectionOptions(...) serves one collection at a time: call it once per collection')
      active = true
      options.txids.reset()
      const controller = new AbortController()
      void consume(options, params, controller.signal)
      return () => {
        active = false
        controller.abort()
        options.txids.fail(new Error('the collection stopped syncing'))
      }
    },
  }
}

async function consume<Row extends object, TKey extends string | number, TInput>(
  { subscription, input, txids, onError }: ShapeSyncOptions<Row, TInput>,
  { begin, write, commit, truncate, markReady, markError }: SyncParams<Row, TKey>,
  signal: AbortSignal,
): Promise<void> {
  let open = false
  let ready = false
  let batchTxids: number[] = []
  let bounds: SnapshotBounds | undefined
  const beginOnce = () => {
    if (!open) begin()
    open = true
  }
  try {
    const upToDate = () => {
      const applied = open ? commit() : true
      open = false
      // Recorded now, not when applied: a commit waits for the handlers that wait for these txids.
      txids.record(batchTxids, bounds)
      batchTxids = []
      bounds = undefined
      if (!ready) {
        ready = true
        if (applied === true) markReady()
        else applied.then(markReady, () => {})
      }
    }
    for await (const { data: event } of subscription.subscribe(input, { signal })) {
      switch (event.type) {
        case 'insert':
        case 'update':
        case 'delete':
          beginOnce()
          write({ type: event.type, value: event.row })
          batchTxids.push(...event.txids)
          if (event.upToDate) upToDate()
          break
        case 'must-refetch':
          beginOnce()
          truncate()
          batchTxids = []
          bounds = undefined
          break
        case 'snapshot-end':
          bounds = { xmin: event.xmin, xmax: event.xmax, xip: event.xip }
          break
        case 'up-to-date':
          upToDate()
          break
      }
    }
    if (!signal.aborted) throw new Error('the shape subscription ended')
  } catch (error) {
    if (signal.aborted) return
    if (open) commit(AbortSignal.abort())
    if (!ready) markError(error)
    txids.fail(error)
    onError(error)
  }
}
