// Prisma `select` -> the shape's columns: database names in model order, primary key always included.
import { ShapeError } from './errors.js'
import type { ModelMeta } from './model.js'
import { describe } from './values.js'

/** The selected columns, or `undefined` (all columns) without a select. */
export function selectColumns(model: ModelMeta, select: unknown): string[] | undefined {
  if (select === undefined) return undefined
  if (typeof select !== 'object' || select === null || Array.isArray(select)) {
    throw new ShapeError('select', `expected an object of field names, got ${describe(select)}`)
  }
  const picked = new Set<string>()
  for (const [name, value] of Object.entries(select)) {
    if (value === undefined) continue
    const path = `select.${name}`
    const field = model.fields.get(name)
    if (!field) throw new ShapeError(path, `unknown field "${name}" on model ${model.name}`)
    if (field.kind === 'object') throw new ShapeError(path, 'relations cannot be selected in a shape; a shape holds rows of one table')
    if (typeof value !== 'boolean') throw new ShapeError(path, `expected true or false, got ${describe(value)}`)
    if (!value && model.primaryKey.includes(name)) {
      throw new ShapeError(path, `${name} is part of the primary key, which every shape includes`)
    }
    if (value) picked.add(name)
  }
  if (picked.size === 0) throw new ShapeError('select', 'selects no field; select at least one field or leave select out')
  return [...model.fields.values()]
    .filter((field) => field.kind !== 'object' && (picked.has(field.name) || model.primaryKey.includes(field.name)))
    .map((field) => field.column)
}
