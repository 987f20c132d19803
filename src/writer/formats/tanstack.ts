// TanStack DB's transaction mutations (`PendingMutation[]`, as sent by a collection's onInsert /
// onUpdate / onDelete). The row's key comes from `modified` for inserts and from `original` for updates
// and deletes; an update writes `changes`. The table is `syncMetadata.relation` (set by Electric
// collections); without it, a writer that allows exactly one model uses that model. The batch's id is
// the first mutation's `mutationId` (unique per mutation in TanStack DB, so per transaction too).
import { z } from 'zod'
import { batchId, tableName, type OperationInput } from '../operation.js'
import type { Format } from './format.js'

const row = z.record(z.string(), z.unknown())
// Other PendingMutation fields (key, globalKey, metadata, ...) are allowed and ignored.
const syncMetadata = z.looseObject({ relation: tableName.optional() }).optional()
const mutationId = batchId.optional()

export const tanstackMutation = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('insert'), modified: row, syncMetadata, mutationId }),
  z.looseObject({ type: z.literal('update'), original: row, changes: row, syncMetadata, mutationId }),
  z.looseObject({ type: z.literal('delete'), original: row, syncMetadata, mutationId }),
])
export type TanstackMutation = z.infer<typeof tanstackMutation>

/** zod schema of a TanStack DB mutation batch, for a tRPC procedure's `.input(...)`. */
export const tanstackBatch = z.array(tanstackMutation)
export type TanstackBatch = z.infer<typeof tanstackBatch>

export const tanstackFormat: Format<TanstackBatch> = {
  name: 'TanStack DB',
  schema: tanstackBatch,
  toOperations: (batch) => batch.map((m): OperationInput => {
    const table = m.syncMetadata?.relation
    switch (m.type) {
      case 'insert': return { type: 'insert', table, data: m.modified }
      case 'update': return { type: 'update', table, data: m.original, changes: m.changes }
      case 'delete': return { type: 'delete', table, data: m.original }
    }
  }),
  batchId: (batch) => batch[0]?.mutationId,
}
