// Check stage: operation type in `accept`, then the app's `check`. Runs for every operation of the
// batch before the transaction starts, so a rejected batch never touches the database.
import { WriterError, toWriterError } from '../errors.js'
import { formatTableName, operationTypes } from '../operation.js'
import type { Prepared } from './prepare.js'
import { requireAccepted } from './verdict.js'

export async function checkOperation({ entry, operation }: Prepared): Promise<void> {
  const accept = entry.options.accept ?? operationTypes
  if (!accept.includes(operation.type)) {
    throw new WriterError({
      step: 'accept',
      kind: 'forbidden',
      operationIndex: operation.index,
      reason: `${operation.type} is not accepted for ${formatTableName(operation.table ?? entry.model.table)} (accepts ${accept.join(', ') || 'nothing'})`,
    })
  }
  const { check } = entry.options
  if (!check) return
  let verdict: unknown
  try {
    verdict = await check(operation)
  } catch (error) {
    throw toWriterError(error, 'check', operation.index)
  }
  requireAccepted(verdict, 'check', 'forbidden', operation.index)
}
