// Write stage: create, update by primary key with only the changed fields, or delete by primary key.
import { DbNull, JsonNull } from '@prisma/client/runtime/client'
import type { ModelMeta } from '../../shape/model.js'
import { delegateOf, primaryKeyWhere } from '../prisma.js'
import type { AnyRow, Prepared } from './prepare.js'

export async function writeOperation({ entry, operation }: Prepared, tx: unknown): Promise<AnyRow> {
  const { model } = entry
  const delegate = delegateOf(tx, model)
  switch (operation.type) {
    case 'insert':
      return await delegate.create({ data: forPrisma(model, operation.data) }) as AnyRow
    case 'update':
      return await delegate.update({
        where: primaryKeyWhere(model, operation.data, operation.index),
        data: forPrisma(model, operation.changes),
      }) as AnyRow
    case 'delete':
      return await delegate.delete({ where: primaryKeyWhere(model, operation.data, operation.index) }) as AnyRow
  }
}

/** Prisma needs a marker for null on Json fields: SQL NULL where the column allows it, JSON null otherwise. */
function forPrisma(model: ModelMeta, values: AnyRow): AnyRow {
  const out: AnyRow = { ...values }
  for (const [name, value] of Object.entries(values)) {
    const field = model.fields.get(name)
    if (value === null && field?.type === 'Json' && !field.isList) out[name] = field.isRequired ? JsonNull : DbNull
  }
  return out
}
