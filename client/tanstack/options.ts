// `trpcCollectionOptions(...)`: TanStack DB collection options over a tRPC shape subscription and a
// TanStack-format mutation procedure. Local writes stay optimistic until the mutation's txid is in the
// synced data, so the optimistic row is replaced by the synced one without a flicker.
import type { BaseCollectionConfig, CollectionConfig, UtilsRecord } from '@tanstack/db'
import type { ShapeProcedure } from '../live-shape.js'
import { toTanstackBatch, type MutationProcedure, type Relation } from './batch.js'
import { shapeSync } from './sync.js'
import { TxidTracker } from '../txid.js'

export interface TrpcCollectionUtils extends UtilsRecord {
  /**
   * Resolves once `txid` (a mutation's `{ txid }`) is in the collection's synced data; rejects with
   * TxidTimeoutError after `timeout` ms, or when the subscription fails or the collection is cleaned up.
   */
  awaitTxId(txid: number, timeout?: number): Promise<true>
}

export interface TrpcCollectionConfig<Row extends object, TKey extends string | number, TInput>
  extends Omit<BaseCollectionConfig<Row, TKey, never, TrpcCollectionUtils>, 'schema' | 'utils' | 'syncMode' | 'onInsert' | 'onUpdate' | 'onDelete'> {
  /** The shape subscription procedure, such as `trpc.todos.sync`. */
  subscription: ShapeProcedure<TInput, Row>
  input: TInput
  /** The mutation procedure taking a TanStack DB batch, such as `trpc.todos.mutate`. Without it the collection is read-only. */
  mutate?: MutationProcedure
  /** Sent as each mutation's `syncMetadata.relation`: needed when the server's Writer allows several models. */
  relation?: Relation
  /** How long a write waits for its txid to arrive, in ms (default 10,000); then it fails and rolls back. */
  timeout?: number
  /** Called when the subscription fails for good (default: console.error). */
  onError?: (error: unknown) => void
}

export type TrpcCollectionOptions<Row extends object, TKey extends string | number> =
  CollectionConfig<Row, TKey, never, TrpcCollectionUtils> & { utils: TrpcCollectionUtils }

/**
 * Options for `createCollection`: rows come from `subscription`, and `onInsert` / `onUpdate` / `onDelete`
 * send the transaction through `mutate`, then wait for its txid. One options object per collection.
 */
export function trpcCollectionOptions<Row extends object, TKey extends string | number, TInput>(
  config: TrpcCollectionConfig<Row, TKey, TInput>,
): TrpcCollectionOptions<Row, TKey> {
  const { subscription, input, mutate, relation, timeout = 10_000, onError = reportError, ...rest } = config
  const txids = new TxidTracker()
  const utils: TrpcCollectionUtils = { awaitTxId: (txid, ms = timeout) => txids.wait(txid, ms) }
  const persist = mutate && (async ({ transaction }: { transaction: { mutations: Parameters<typeof toTanstackBatch>[0] } }) => {
    const { txid } = await mutate.mutate(toTanstackBatch(transaction.mutations, relation))
    await txids.wait(txid, timeout)
  })
  return {
    ...rest,
    sync: shapeSync<Row, TKey, TInput>({ subscription, input, txids, onError }),
    utils,
    onInsert: persist,
    onUpdate: persist,
    onDelete: persist,
  }
}

function reportError(error: unknown): void {
  console.error('trpc-sync: a TanStack DB collection stopped syncing', error)
}
