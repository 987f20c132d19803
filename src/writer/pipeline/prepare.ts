// Parse stage, per operation: find the allowed model by table, map keys to fields and convert values.
import type { ModelMeta } from '../../shape/model.js'
import { coerceValues } from '../coerce.js'
import type { AllowOptions } from '../hooks.js'
import type { Operation, OperationInput } from '../operation.js'
import { resolveTable, type TableMatch } from '../tables.js'

export type AnyRow = Record<string, unknown>

/** One `allow` call. */
export interface Entry {
  model: ModelMeta
  match: TableMatch
  options: AllowOptions<AnyRow, unknown>
}

export interface Prepared {
  entry: Entry
  operation: Operation<AnyRow>
}

export function prepareOperation(entries: readonly Entry[], input: OperationInput, index: number): Prepared {
  const entry = resolveTable(entries, input.table, index)
  const { model } = entry
  const operation: Operation<AnyRow> = {
    index,
    type: input.type,
    table: input.table,
    model: model.name,
    data: coerceValues(model, input.data, { index, part: 'data' }),
    changes: input.type === 'update' ? coerceValues(model, input.changes ?? {}, { index, part: 'changes' }) : {},
  }
  return { entry, operation }
}
