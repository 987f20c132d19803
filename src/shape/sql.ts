// Safe SQL building for shape where clauses: identifiers come only from model metadata and are quoted,
// every client value is a parameter. Conditions fold TRUE/FALSE as they are combined and get their `$n`
// numbers only when rendered, so parameters of folded-away parts never dangle.

/** A value that becomes a `$n` placeholder, cast when its type cannot be read from the column. */
export interface Param {
  text: string
  pgType: string
  isArray: boolean
}

/** A boolean SQL condition, or a constant. */
export type Condition = Node | boolean
type Node =
  | { op: 'leaf'; pieces: readonly (string | Param)[] }
  | { op: 'and' | 'or'; items: Node[] }
  | { op: 'not'; item: Node }

/** Postgres's bind message counts parameters in 16 bits: a shape with more can never run (shapeParams cannot exceed it). */
export const MAX_BIND_PARAMS = 65_535

/** Postgres types whose parameters Postgres (and our evaluator) can type from the column alone. */
const selfTypedParams = new Set(['text', 'varchar', 'bool', 'int2', 'int4', 'float4', 'float8'])
const builtinTypes = new Set([
  'text', 'varchar', 'bpchar', 'citext', 'uuid', 'inet', 'xml', 'bit', 'varbit', 'bool',
  'int2', 'int4', 'int8', 'oid', 'float4', 'float8', 'numeric', 'money',
  'timestamp', 'timestamptz', 'date', 'time', 'timetz', 'json', 'jsonb', 'bytea',
])

/** `"name"`, with embedded quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

export function param(text: string, pgType: string, isArray = false): Param {
  return { text, pgType, isArray }
}

/**
 * A condition from trusted SQL pieces (quoted identifiers, operators) and parameters.
 * Strings here must never contain client values.
 */
export function leaf(...pieces: (string | Param)[]): Condition {
  return leafOf(pieces)
}

/** `leaf` for a list of pieces of any length (a spread of thousands would overflow the stack). */
export function leafOf(pieces: readonly (string | Param)[]): Condition {
  return { op: 'leaf', pieces }
}

export function and(parts: Condition[]): Condition {
  return combine('and', parts)
}

export function or(parts: Condition[]): Condition {
  return combine('or', parts)
}

export function not(part: Condition): Condition {
  return typeof part === 'boolean' ? !part : { op: 'not', item: part }
}

/** `x AND FALSE` is FALSE and `x OR TRUE` is TRUE even when x is NULL, so folding keeps SQL's three-valued logic. */
function combine(op: 'and' | 'or', parts: Condition[]): Condition {
  const absorbing = op === 'or'
  const items: Node[] = []
  for (const part of parts) {
    if (part === absorbing) return absorbing
    if (typeof part === 'boolean') continue
    if (part.op === op) for (const item of part.items) items.push(item)
    else items.push(part)
  }
  if (items.length === 0) return !absorbing
  return items.length === 1 ? items[0]! : { op, items }
}

/** The SQL text of a condition and its parameters, `params[0]` being `$1`. */
export function render(condition: Condition): { sql: string; params: string[] } {
  const params: string[] = []
  const placeholder = (p: Param): string => {
    params.push(p.text)
    const n = `$${params.length}`
    if (p.isArray) return `${n}::${typeName(p.pgType)}[]`
    return selfTypedParams.has(p.pgType) ? n : `${n}::${typeName(p.pgType)}`
  }
  const visit = (node: Node, nested: boolean): string => {
    switch (node.op) {
      case 'leaf':
        return node.pieces.map((piece) => (typeof piece === 'string' ? piece : placeholder(piece))).join('')
      case 'not':
        return `NOT (${visit(node.item, false)})`
      default: {
        const sql = node.items.map((item) => visit(item, true)).join(node.op === 'and' ? ' AND ' : ' OR ')
        return nested ? `(${sql})` : sql
      }
    }
  }
  return { sql: typeof condition === 'boolean' ? String(condition) : visit(condition, false), params }
}

/** A type name as it appears in a cast: built-in names bare, others (enums) quoted. */
function typeName(pgType: string): string {
  return builtinTypes.has(pgType) ? pgType : quoteIdent(pgType)
}
