// A plain JSON batch for clients that are not TanStack DB:
//   { operations: [{ type: 'insert', table: 'todos', data: { id, title } },
//                  { type: 'update', table: 'todos', data: { id }, changes: { title } },
//                  { type: 'delete', table: 'todos', data: { id } }] }
// `data` is the new row for inserts and the row's key (or the whole original row) otherwise. An optional
// `id` (e.g. a UUID the client generates) makes the batch apply at most once.
import { z } from 'zod'
import { batchId, tableName, type OperationInput } from '../operation.js'
import type { Format } from './format.js'

const row = z.record(z.string(), z.unknown())

export const jsonOperation = z.discriminatedUnion('type', [
  z.object({ type: z.literal('insert'), table: tableName.optional(), data: row }),
  z.object({ type: z.literal('update'), table: tableName.optional(), data: row, changes: row }),
  z.object({ type: z.literal('delete'), table: tableName.optional(), data: row }),
])
export type JsonOperation = z.infer<typeof jsonOperation>

/** zod schema of a plain JSON batch, for a tRPC procedure's `.input(...)`. */
export const jsonBatch = z.object({ id: batchId.optional(), operations: z.array(jsonOperation) })
export type JsonBatch = z.infer<typeof jsonBatch>

export const jsonFormat: Format<JsonBatch> = {
  name: 'JSON',
  schema: jsonBatch,
  toOperations: (batch) => batch.operations.map((op): OperationInput => ({ ...op })),
  batchId: (batch) => batch.id,
}
