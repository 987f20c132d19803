// Load stage: the row an update or delete applies to, read in the batch's transaction after locking it
// (`SELECT … FOR UPDATE` by the operation's primary key), so what `authorize` and `validate` see is
// what the write changes: no concurrent writer can change the row in between. A custom `load` must
// return the row with that key, else the batch is refused (the row authorized is the row written).
import { quoteIdent } from '../../shape/sql.js'
import type { ModelMeta } from '../../shape/model.js'
import { WriterError } from '../errors.js'
import { delegateOf, primaryKeyWhere } from '../prisma.js'
import type { RawQueryClient } from '../txid.js'
import type { AnyRow, Prepared } from './prepare.js'

export async function loadOriginal({ entry, operation }: Prepared, tx: unknown): Promise<AnyRow> {
  const { model, options } = entry
  const keyed = hasPrimaryKey(model, operation.data)
  if (keyed) await lockRow(model, operation.data, tx as RawQueryClient)
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
  if (keyed && !model.primaryKey.every((f) => sameValue((row as AnyRow)[f], operation.data[f]))) {
    throw new WriterError({
      step: 'load',
      kind: 'forbidden',
      operationIndex: operation.index,
      reason: `load returned a ${model.name} row with another primary key than the ${operation.type} addresses`,
    })
  }
  return row as AnyRow
}

function hasPrimaryKey(model: ModelMeta, data: AnyRow): boolean {
  return model.primaryKey.every((f) => data[f] !== undefined && data[f] !== null)
}

/** Locks the row with the key of `data` until the transaction ends; no row, no lock (load then finds none). */
async function lockRow(model: ModelMeta, data: AnyRow, tx: RawQueryClient): Promise<void> {
  const fields = model.primaryKey.map((f) => model.fields.get(f)!)
  const where = fields.map((field, i) => `${quoteIdent(field.column)} = $${i + 1}`).join(' AND ')
  const values = fields.map((field) => toParam(field.enumValues, data[field.name]))
  await tx.$queryRawUnsafe(`SELECT 1 FROM ${quoteIdent(model.namespace)}.${quoteIdent(model.table)} WHERE ${where} FOR UPDATE`, ...values)
}

/** A key value as a query parameter: enums by their database label, other values as Prisma has them. */
function toParam(enumValues: Map<string, string> | undefined, value: unknown): unknown {
  return enumValues && typeof value === 'string' ? (enumValues.get(value) ?? value) : value
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) return String(a) === String(b)
  return a === b
}
