// The real Postgres parser (libpg-query, wasm), loaded once when this module is first imported so that
// parsing is synchronous afterwards, and positions within the where clause (AST locations count
// Electric's `SELECT 1 WHERE ` prefix; errors report them without it).
import { loadModule, parseSync, type Node } from 'libpg-query'
import { WhereError } from './errors.js'

await loadModule()

/**
 * How deeply a where clause's syntax tree may nest (objects and arrays of libpg-query's AST; `NOT x` adds
 * three levels). The compiler and the evaluator recurse over the tree, so a clause nested thousands of
 * levels deep (16 KB of `NOT NOT ...`) would overflow the stack; such a clause is refused instead.
 */
export const MAX_AST_DEPTH = 600

/** What Electric prepends to a where clause before parsing it; AST locations count it too. */
export const PREFIX = 'SELECT 1 WHERE '

/** Node locations count Electric's `SELECT 1 WHERE ` prefix; report them within the where clause. */
export function at(node: unknown): number {
  const loc = (node as { location?: number }).location
  return Math.max((loc ?? PREFIX.length) - PREFIX.length, 0)
}

/** Parses a where clause into its expression node. Throws WhereError on a syntax error. */
export function parseWhere(where: string): Node {
  if (where.trim() === '') throw new WhereError('where clause is empty')
  let result
  try {
    result = parseSync(PREFIX + where)
  } catch (error) {
    const details = (error as { sqlDetails?: { message: string; cursorPosition: number } }).sqlDetails
    // Electric reports the cursor position within the prefixed statement, 0-based; so do we.
    if (details) throw new WhereError(details.message, details.cursorPosition)
    throw new WhereError((error as Error).message)
  }
  const stmts = result.stmts ?? []
  if (stmts.length !== 1) throw new WhereError('unescaped ";" causing statement split')
  const stmt = stmts[0]?.stmt
  const select = stmt && 'SelectStmt' in stmt ? stmt.SelectStmt : undefined
  if (!select || !select.whereClause) throw new WhereError('malformed where clause')
  if (depthExceeds(select.whereClause, MAX_AST_DEPTH)) {
    throw new WhereError(`where clause nested too deeply (its syntax tree has more than ${MAX_AST_DEPTH} levels)`)
  }
  if (select.fromClause || select.groupClause || select.sortClause || select.windowClause || select.lockingClause
    || select.havingClause || select.limitCount || select.limitOffset || select.withClause || select.op !== 'SETOP_NONE') {
    throw new WhereError('malformed query ending with SQL clauses')
  }
  return select.whereClause
}

/** Whether `tree` nests deeper than `max` objects and arrays, walked without recursion. */
function depthExceeds(tree: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[tree, 1]]
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [node, depth] = next
    if (depth > max) return true
    if (typeof node !== 'object' || node === null) continue
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
    }
  }
  return false
}
