// Conflict stage (opt-in, `onConflict: 'reject'`): an update applies only if each column it changes
// still holds, in the stored row (loaded and locked), the value the client's `original` says it read;
// otherwise a concurrent writer got there first and the batch is CONFLICT. Default: last writer wins
// on the changed columns. Runs after authorize, so the answer tells nothing about rows one may not write.
import { isDeepStrictEqual } from 'node:util'
import { Decimal } from '@prisma/client/runtime/client'
import { WriterError } from '../errors.js'
import type { AnyRow, Prepared } from './prepare.js'

export function requireNoConflict({ entry, operation }: Prepared, stored: AnyRow): void {
  if (entry.options.onConflict !== 'reject' || operation.type !== 'update') return
  const changed = Object.keys(operation.changes).filter((field) => !entry.model.primaryKey.includes(field))
  const unread = changed.filter((field) => operation.data[field] === undefined)
  if (unread.length > 0) {
    throw new WriterError({
      step: 'conflict',
      kind: 'invalid',
      operationIndex: operation.index,
      reason: `onConflict: 'reject' needs the original value of ${unread.map((f) => `"${f}"`).join(', ')} in the update's original row`,
    })
  }
  const moved = changed.filter((field) => !sameValue(stored[field], operation.data[field]))
  if (moved.length > 0) {
    throw new WriterError({
      step: 'conflict',
      kind: 'conflict',
      operationIndex: operation.index,
      reason: `${moved.map((f) => `"${f}"`).join(', ')} of this ${entry.model.name} row changed since the client read it (a concurrent write got there first)`,
    })
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Decimal.isDecimal(a) && Decimal.isDecimal(b)) return a.equals(b)
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b))
  return isDeepStrictEqual(a, b)
}
