// What a shape definition means against a table: its columns (the key included), its where clause
// compiled with the table's types and collations, its identity (one log per distinct definition), and
// which snapshot errors are the definition's own fault.
import type { ShapeDefinition } from '../shape/definition.js'
import { compileWhere, type CompiledWhere } from '../where/index.js'
import { quoteIdent, type TableInfo } from './catalog.js'
import { EngineError, rejectedQuery } from './errors.js'
import { isTableChange, TableChangedError } from './relations.js'

export function selectColumns(table: TableInfo, columns: string[] | undefined): string[] {
  if (!columns) return table.columns.map((c) => c.name)
  const unknown = columns.filter((c) => !table.byName.has(c))
  if (unknown.length) throw new EngineError('columns', `Unknown column${unknown.length > 1 ? 's' : ''}: ${unknown.map((c) => quoteIdent(c)).join(', ')}`)
  const missing = table.primaryKey.filter((c) => !columns.includes(c))
  if (missing.length && table.columns.some((c) => c.pkIndex !== undefined)) {
    throw new EngineError('columns', `The list of columns must include all primary key columns, missing: ${missing.map(quoteIdent).join(', ')}`)
  }
  return table.columns.map((c) => c.name).filter((c) => columns.includes(c))
}

export function compileWhereFor(table: TableInfo, where: string, params: string[]): CompiledWhere {
  const types = new Map(table.columns.map((c) => [c.name, { type: c.type, dims: c.dims, isEnum: c.isEnum, enumLabels: c.enumLabels, collation: c.collation }]))
  try {
    return compileWhere(where, types, params, { defaultCollation: table.defaultCollation })
  } catch (error) {
    throw new EngineError('where', (error as Error).message)
  }
}

export function translateSnapshotError(error: unknown, table: TableInfo): Error {
  if (error instanceof EngineError) return error
  if (isTableChange(error)) return new TableChangedError(table)
  // Errors Postgres raises for the where clause itself (bad cast, too many parameters) are the client's.
  return rejectedQuery(error, 'where') ?? error as Error
}

const canonicalKeys = new WeakMap<object, [string?, string?]>()

/** The definition's identity as a string; cached per definition object (readers pass the same one each fetch). */
export function canonicalKey(definition: ShapeDefinition & { changesOnly?: boolean }, changesOnly = definition.changesOnly ?? false): string {
  let keys = canonicalKeys.get(definition)
  if (!keys) canonicalKeys.set(definition, (keys = []))
  return (keys[changesOnly ? 1 : 0] ??= computeKey(definition, changesOnly))
}

function computeKey(definition: ShapeDefinition, changesOnly: boolean): string {
  return JSON.stringify([
    definition.namespace, definition.table, definition.where ?? null, definition.params ?? [],
    definition.columns ? [...definition.columns].sort() : null, definition.replica, changesOnly,
  ])
}


