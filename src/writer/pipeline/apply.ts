// The per-operation stages, in order, inside the batch's transaction:
// beforeAll (first operation on each allowed model) → load (locked) → authorize → conflict → validate → primary key →
// preApply → write → postApply.
import { toWriterError, type WriterStep } from '../errors.js'
import type { ApplyContext, OperationHooks } from '../hooks.js'
import type { OperationType } from '../operation.js'
import { requirePrimaryKey } from '../prisma.js'
import { authorizeOperation } from './authorize.js'
import { requireNoConflict } from './conflict.js'
import { loadOriginal } from './load.js'
import type { AnyRow, Entry, Prepared } from './prepare.js'
import { validateRow } from './validate.js'
import { writeOperation } from './write.js'

export interface AppliedChange<Row = AnyRow> {
  index: number
  type: OperationType
  /** Prisma model name. */
  model: string
  /** The row as written (for deletes: as deleted). */
  row: Row
}

export async function applyOperation(prepared: Prepared, tx: unknown, beforeAllDone: Set<Entry>): Promise<AppliedChange> {
  const { entry, operation } = prepared
  const { options, model } = entry
  const index = operation.index
  const perType = options[operation.type] as OperationHooks<AnyRow, AnyRow, unknown> | undefined
  const validate = perType?.validate ?? options.validate
  const preApply = perType?.preApply ?? options.preApply
  const postApply = perType?.postApply ?? options.postApply

  if (options.beforeAll && !beforeAllDone.has(entry)) {
    beforeAllDone.add(entry)
    await step('beforeAll', index, () => options.beforeAll!(tx))
  }

  const original = operation.type === 'insert' ? null : await step('load', index, () => loadOriginal(prepared, tx))
  const row: AnyRow = operation.type === 'insert' ? operation.data
    : operation.type === 'update' ? { ...original, ...operation.changes }
    : original!
  await authorizeOperation(prepared, tx, original, operation.type === 'delete' ? null : row)
  if (original) requireNoConflict(prepared, original)

  if (validate) await step('validate', index, () => validateRow(validate, row, { tx, operation, original }))

  // Inserts may leave the key to column defaults; updates and deletes are addressed by it.
  if (operation.type !== 'insert') requirePrimaryKey(model, operation.data, index)

  const ctx: ApplyContext<AnyRow, unknown> = { tx, operation, original, row }
  if (preApply) await step('preApply', index, () => preApply(ctx))
  const written = await step('write', index, () => writeOperation(prepared, tx))
  if (postApply) await step('postApply', index, () => postApply({ ...ctx, row: written }))

  return { index, type: operation.type, model: model.name, row: written }
}

async function step<T>(name: WriterStep, index: number, run: () => T | PromiseLike<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    throw toWriterError(error, name, index)
  }
}
