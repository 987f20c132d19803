// `trpcCollectionOptions(...)`: TanStack DB collection options over a tRPC shape subscription and a
// TanStack-format mutation procedure. Local writes stay optimistic until the mutation's txid is in the
// synced data, so the optimistic row is replaced by the synced one without a flicker. A batch whose
// answer is lost is sent again with the same id (its mutationIds) until the server answers, so a write
// is never rolled back for a reply that did not arrive.
import type { BaseCollectionConfig, CollectionConfig, UtilsRecord } from '@tanstack/db'
import type { ShapeProcedure } from '../live-shape.js'
import { toTanstackBatch, type MutationProcedure, type Relation } from './batch.js'
import { shapeSync } from './sync.js'
import { TxidTracker } from '../txid.js'
import { retryUnknownOutcome, type RetryOptions } from '../writes.js'

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
  /** How a batch whose answer was lost is sent again (default: up to 30 sends). */
  retry?: Omit<RetryOptions, 'signal'>
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
  const { subscription, input, mutate, relation, timeout = 10_000, retry, onError = reportError, ...rest } = config
  const txids = new TxidTracker()
  const utils: TrpcCollectionUtils = { awaitTxId: (txid, ms = timeout) => txids.wait(txid, ms) }
  const persist = mutate && (async ({ transaction }: { transaction: { mutations: Parameters<typeof toTanstackBatch>[0] } }) => {
    const batch = toTanstackBatch(transaction.mutations, relation)
    const { txid } = await retryUnknownOutcome(batch, () => mutate.mutate(batch), retry)
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
