// A transaction's mutations as the wire batch the server's `tanstackBatch` input accepts: only the
// fields the Writer reads (the rest of a PendingMutation holds the collection itself). Each keeps its
// `mutationId`: the first one is the batch's id, which the Writer applies at most once.
import type { PendingMutation } from '@tanstack/db'

/** A table as `syncMetadata.relation` names it: `['public', 'todos']` or `'todos'`. */
export type Relation = string | [string, string]

type Values = Record<string, unknown>
type SyncMetadata = { relation?: Relation } & Values

export type TanstackWireMutation =
  | { type: 'insert'; mutationId?: string; modified: Values; syncMetadata: SyncMetadata }
  | { type: 'update'; mutationId?: string; original: Values; changes: Values; syncMetadata: SyncMetadata }
  | { type: 'delete'; mutationId?: string; original: Values; syncMetadata: SyncMetadata }

/** A mutation procedure of the client proxy whose input is a TanStack DB batch, such as `trpc.todos.mutate`. */
export interface MutationProcedure {
  mutate(batch: TanstackWireMutation[]): PromiseLike<{ txid: number }>
}

/**
 * `mutations` (a transaction's) as a batch for the mutation procedure; `relation` becomes each one's
 * `syncMetadata.relation`. For transactions of your own: `mutate.mutate(toTanstackBatch(transaction.mutations))`.
 */
export function toTanstackBatch(mutations: readonly PendingMutation<any>[], relation?: Relation): TanstackWireMutation[] {
  return mutations.map((m): TanstackWireMutation => {
    const syncMetadata: SyncMetadata = relation === undefined ? m.syncMetadata : { ...m.syncMetadata, relation }
    switch (m.type) {
      case 'insert': return { type: 'insert', mutationId: m.mutationId, modified: m.modified, syncMetadata }
      case 'update': return { type: 'update', mutationId: m.mutationId, original: m.original, changes: m.changes, syncMetadata }
      case 'delete': return { type: 'delete', mutationId: m.mutationId, original: m.original, syncMetadata }
    }
  })
}
