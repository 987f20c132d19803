// Authorize stage: the app's `authorize` sees the rows an operation touches as they are in the
// database, never the client's claim: the stored row of an update or delete (loaded and locked by the
// load stage) and the row as it will be written by an insert or update. Both must pass.
import { toWriterError } from '../errors.js'
import type { AuthorizeContext } from '../hooks.js'
import type { AnyRow, Prepared } from './prepare.js'
import { requireAccepted } from './verdict.js'

export async function authorizeOperation({ entry, operation }: Prepared, tx: unknown, stored: AnyRow | null, written: AnyRow | null): Promise<void> {
  const { authorize } = entry.options
  if (!authorize) return
  const ask = async (row: AnyRow, as: AuthorizeContext<AnyRow, unknown>['as']) => {
    let verdict: unknown
    try {
      verdict = await authorize(row, { tx, operation, as, stored })
    } catch (error) {
      throw toWriterError(error, 'authorize', operation.index)
    }
    if (verdict === false) verdict = `not authorized to ${operation.type} this ${entry.model.name} row (${as === 'stored' ? 'as stored' : 'as it would be written'})`
    requireAccepted(verdict, 'authorize', 'forbidden', operation.index)
  }
  if (stored) await ask(stored, 'stored')
  if (written) await ask(written, 'written')
}
