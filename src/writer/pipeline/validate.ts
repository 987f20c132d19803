// Validate stage: a Standard Schema (zod, ...) or a function decides whether the row may be written.
import { WriterError, type WriterIssue } from '../errors.js'
import type { StandardSchema, ValidateContext, Validator } from '../hooks.js'
import type { AnyRow } from './prepare.js'
import { requireAccepted } from './verdict.js'

export async function validateRow(
  validator: Validator<AnyRow, AnyRow, unknown>,
  row: AnyRow,
  ctx: ValidateContext<AnyRow, unknown>,
): Promise<void> {
  const index = ctx.operation.index
  if (typeof validator === 'function') {
    requireAccepted(await validator(row, ctx), 'validate', 'invalid', index)
    return
  }
  const result = await (validator as StandardSchema)['~standard'].validate(row)
  if (!result.issues) return
  const issues: WriterIssue[] = result.issues.map((i) => ({
    path: (i.path ?? []).map((p) => (typeof p === 'object' ? p.key : p)),
    message: i.message,
  }))
  throw new WriterError({
    step: 'validate',
    kind: 'invalid',
    operationIndex: index,
    reason: issues.map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message)).join('; '),
    issues,
  })
}
