// The standalone server's shapes: named by the client in Electric's query parameters (`table`, `where`,
// `params[n]`, `columns`, `replica`), with Electric's identifier rules and messages.
import type { SyncLimits } from '../limits/index.js'
import type { ShapeDefinition } from '../shape/definition.js'
import { ShapeError } from '../shape/errors.js'
import { keywordShape } from '../shape/keyword.js'

/** `limits`: whereBytes and shapeParams for the client's where clause and params. */
export function shapeFromParams(query: URLSearchParams, limits?: Pick<SyncLimits, 'whereBytes' | 'shapeParams'>): ShapeDefinition {
  const table = query.get('table')
  if (table === null || table.trim() === '') throw new ShapeError('table', "can't be blank")
  const replica = query.get('replica') ?? 'default'
  if (replica !== 'default' && replica !== 'full') throw new ShapeError('replica', 'is invalid')
  const params: Record<string, string> = {}
  for (const [key, value] of query) {
    const match = /^params\[(.*)\]$/.exec(key)
    if (match) params[match[1]!] = value
  }
  const where = query.get('where') ?? undefined
  const columns = query.get('columns')
  return keywordShape({
    table,
    where: where === '' ? undefined : where,
    params: Object.keys(params).length ? params : undefined,
    columns: columns === null ? undefined : parseColumns(columns),
    replica,
  }, limits)
}

/**
 * Electric's `columns` list: comma-separated identifiers, commas inside quotes kept; quoted names keep
 * their case (`""` is a quote), bare ones are lowercased and must be plain identifiers.
 */
export function parseColumns(text: string): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (const char of text) {
    if (char === '"') quoted = !quoted
    if (char === ',' && !quoted) {
      parts.push(current)
      current = ''
    } else {
      current += char
    }
  }
  parts.push(current)
  return parts.map((part) => {
    if (part === '') throw new ShapeError('columns', 'Invalid zero-length delimited identifier')
    if (part.startsWith('"')) {
      if (part.length < 2 || !part.endsWith('"') || part.slice(1, -1).replaceAll('""', '').includes('"')) {
        throw new ShapeError('columns', `Invalid identifier with unbalanced quotes: ${part}`)
      }
      const name = part.slice(1, -1).replaceAll('""', '"')
      if (name === '') throw new ShapeError('columns', 'Invalid zero-length delimited identifier')
      return name
    }
    if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(part)) throw new ShapeError('columns', `Invalid unquoted identifier contains special characters: ${part}`)
    return part.toLowerCase()
  })
}
