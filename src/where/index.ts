// Where clauses: parsed by the real Postgres parser, evaluated against rows with Postgres semantics,
// and indexed for routing changes to shapes.
import { Compiler, type CompiledWhere } from './compile.js'
import { parseWhere } from './parse.js'
import { columnType, type ColumnTypes } from './types.js'

export type { CompiledWhere, EqualityCondition, Row } from './compile.js'
export type { ColumnType, ColumnTypes } from './types.js'
export { WhereError } from './errors.js'
export { FilterIndex } from './filter-index.js'

/**
 * Parses and type-checks a where clause (`$n` placeholders take `params`, Postgres text forms) against a
 * table's columns. Throws WhereError for syntax errors and anything unsupported or ill-typed.
 */
export function compileWhere(sql: string, columns: ColumnTypes, params: readonly string[] = []): CompiledWhere {
  const types = new Map([...columns].map(([name, ct]) => [name, columnType(name, ct)] as const))
  return new Compiler(types, params).compileWhere(parseWhere(sql))
}
