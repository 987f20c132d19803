// Load stage: the row an update or delete applies to, read in the batch's transaction.
import { WriterError } from '../errors.js'
import { delegateOf, primaryKeyWhere } from '../prisma.js'
import type { AnyRow, Prepared } from './prepare.js'

export async function loadOriginal({ entry, operation }: Prepared, tx: unknown): Promise<AnyRow> {
  const { model, options } = entry
  const row = options.load
    ? await options.load(operation.data, { tx, operation })
    : await delegateOf(tx, model).findUnique({ where: primaryKeyWhere(model, operation.data, operation.index) })
  if (row === null || row === undefined) {
    const key = model.primaryKey.map((f) => `${f} = ${JSON.stringify(String(operation.data[f]))}`).join(', ')
    throw new WriterError({
      step: 'load',
      kind: 'not_found',
      operationIndex: operation.index,
      reason: `no ${model.name} row found for ${operation.type} (${key})`,
    })
  }
  if (typeof row !== 'object') {
    throw new WriterError({ step: 'load', kind: 'error', operationIndex: operation.index, reason: `load returned ${typeof row}, not a row` })
  }
  return row as AnyRow
}
