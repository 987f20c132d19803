// A shape definition as Electric's query parameters (`table`, `where`, `params[n]`, `columns`, `replica`).
import type { ShapeDefinition } from '../shape/definition.js'
import { quoteIdent } from '../shape/sql.js'

/** Sets the definition's parameters on `params`, replacing any a client sent. */
export function setShapeParams(params: URLSearchParams, definition: ShapeDefinition): void {
  for (const key of [...params.keys()]) {
    if (['table', 'where', 'columns', 'replica', 'params'].includes(key) || key.startsWith('params[')) params.delete(key)
  }
  // Quoted: Electric follows Postgres identifier rules, so a bare name would be lowercased.
  params.set('table', `${quoteIdent(definition.namespace)}.${quoteIdent(definition.table)}`)
  if (definition.where !== undefined) params.set('where', definition.where)
  definition.params?.forEach((value, i) => params.set(`params[${i + 1}]`, value))
  if (definition.columns) params.set('columns', definition.columns.map(quoteIdent).join(','))
  if (definition.replica === 'full') params.set('replica', 'full')
}
