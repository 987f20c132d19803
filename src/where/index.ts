// Where clauses: parsed by the real Postgres parser, evaluated against rows with Postgres semantics,
// and indexed for routing changes to shapes.
import { BUILTIN_COLLATIONS, C_UTF8_DEFAULT, type Collation } from './collation.js'
import { Compiler } from './compile.js'
import type { CompiledWhere } from './expr.js'
import { parseWhere } from './parse.js'
import { columnType, type ColumnTypes } from './types.js'

export type { CompiledWhere, EqualityCondition, Row } from './expr.js'
export type { ColumnType, ColumnTypes } from './types.js'
export type { Collation } from './collation.js'
export { WhereError } from './errors.js'
export { FilterIndex, type MatchBudget } from './filter-index.js'

export interface CompileOptions {
  /** The database's default collation (pg_database); the test cluster's libc C.UTF-8 when not given. */
  defaultCollation?: Collation
}

/**
 * Parses and type-checks a where clause (`$n` placeholders take `params`, Postgres text forms) against a
 * table's columns. Throws WhereError for syntax errors, anything unsupported or ill-typed, and anything
 * whose result depends on a collation the evaluator cannot reproduce (see collation.ts).
 */
export function compileWhere(
  sql: string, columns: ColumnTypes, params: readonly string[] = [], options: CompileOptions = {},
): CompiledWhere {
  const types = new Map([...columns].map(([name, ct]) => [name, columnType(name, ct)] as const))
  const defaultCollation = options.defaultCollation ?? C_UTF8_DEFAULT
  const columnCollations = new Map<string, Collation>()
  // COLLATE may name the built-in collations and any collation one of the table's columns has.
  const named = new Map(BUILTIN_COLLATIONS)
  named.set('default', defaultCollation)
  for (const [name, ct] of columns) {
    if (!ct.collation) continue
    const collation = ct.collation.name === 'default' ? defaultCollation : ct.collation
    columnCollations.set(name, collation)
    if (!named.has(collation.name)) named.set(collation.name, collation)
  }
  const collations = { default: defaultCollation, columns: columnCollations, named }
  return new Compiler(types, params, collations).compileWhere(parseWhere(sql))
}
