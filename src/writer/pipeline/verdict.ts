// Reading a hook's accept/reject answer.
import { WriterError, type WriterErrorKind, type WriterStep } from '../errors.js'
import type { Verdict } from '../hooks.js'

/** Throws unless the verdict is `true`; only `true` accepts, so a forgotten `return` cannot let data in. */
export function requireAccepted(verdict: Verdict | unknown, step: WriterStep, kind: WriterErrorKind, index: number): void {
  if (verdict === true) return
  const reason = typeof verdict === 'string' ? verdict
    : verdict === false ? `rejected by ${step}`
    : `${step} returned ${String(verdict)}; return true to accept, false or a reason to reject`
  throw new WriterError({ step, kind, operationIndex: index, reason })
}
