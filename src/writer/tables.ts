// Which allowed model an operation is for, from the table the client named.
//
// By default a model matches its table name with any namespace (`todos`, `public.todos`,
// `['public', 'todos']`, `['client', 'todos']`: clients may label relations their own way) and its Prisma
// model name (`Todo`). A `table` option replaces that: a bare name matches it in any namespace, a
// qualified one (`['public', 'todos']` or `'public.todos'`) only that exact relation. When several
// allowed entries match, the one in the client's namespace wins; otherwise the operation is ambiguous.
import type { ModelMeta } from '../shape/model.js'
import { WriterError } from './errors.js'
import { formatTableName, splitTableName, type TableName } from './operation.js'

export interface TableMatch {
  model: ModelMeta
  table: string
  /** The namespace the match prefers (`exact`: requires). */
  namespace: string | undefined
  exact: boolean
  /** Whether the Prisma model name matches too (only without a `table` option). */
  byModelName: boolean
}

export function tableMatch(model: ModelMeta, table: TableName | undefined): TableMatch {
  if (table === undefined) {
    return { model, table: model.table, namespace: model.namespace, exact: false, byModelName: true }
  }
  const split = splitTableName(table)
  if (!split) throw new Error(`invalid table name ${JSON.stringify(table)}`)
  return { model, table: split.name, namespace: split.namespace, exact: split.namespace !== undefined, byModelName: false }
}

export function sameTarget(a: TableMatch, b: TableMatch): boolean {
  return a.table === b.table && a.namespace === b.namespace && a.exact === b.exact
}

/** The entry an operation targets; a `parse` WriterError for unknown, malformed or ambiguous tables. */
export function resolveTable<E extends { match: TableMatch }>(entries: readonly E[], table: TableName | undefined, index: number): E {
  const fail = (reason: string) => new WriterError({ step: 'parse', kind: 'invalid', operationIndex: index, reason })
  if (table === undefined) {
    if (entries.length === 1) return entries[0]!
    throw fail('the operation names no table')
  }
  const split = splitTableName(table)
  if (!split) throw fail(`invalid table name ${JSON.stringify(table)}`)
  const { namespace, name } = split
  let candidates = entries.filter(({ match }) =>
    namespace === undefined
      ? match.table === name || (match.byModelName && match.model.name === name)
      : match.table === name && (!match.exact || match.namespace === namespace))
  if (candidates.length > 1 && namespace !== undefined) {
    const inNamespace = candidates.filter(({ match }) => match.namespace === namespace)
    if (inNamespace.length > 0) candidates = inNamespace
  }
  if (candidates.length === 1) return candidates[0]!
  if (candidates.length === 0) throw fail(`writes to table ${formatTableName(table)} are not allowed`)
  throw fail(`table ${formatTableName(table)} is ambiguous (${candidates.map((c) => c.match.model.name).join(', ')}); send the full [namespace, table] relation`)
}
