// Prisma `where` input -> SQL condition with the same rows as `findMany({ where })`.
// The structure follows Prisma's own filter extraction (prisma-engines `extract_filter`) so that SQL
// three-valued logic gives Prisma's answers, null handling included:
// - `not: { ... }` inverts each operation inside it separately (`not: { gt: 1, lt: 5 }` is `<= 1 AND >= 5`),
//   and `not: v` is `<> v`, which drops NULL rows as Prisma does;
// - `NOT: [a, b]` is `NOT a AND NOT b`; a field or object with no filters is dropped, and a group left empty
//   is TRUE (AND, NOT) or FALSE (OR) at the top level but dropped when nested.
// One deliberate difference: Prisma puts `contains`/`startsWith`/`endsWith` values (and `equals` with
// mode 'insensitive') into LIKE patterns unescaped, so `%` and `_` act as wildcards; here values are always
// literal text.
// The walk is bounded by the where limits: nesting (whereDepth: the recursion), conditions
// (whereConditions: superjson's shared references make a small input a huge tree) and parameters
// (shapeParams: Postgres's bind message allows 65,535), each a LimitError as soon as it is exceeded.
import { skip } from '@prisma/client/runtime/client'
import { defaultLimits, LimitError, type SyncLimits } from '../limits/index.js'
import { ShapeError } from './errors.js'
import type { FieldMeta, ModelMeta } from './model.js'
import { formatArray } from './pg-text.js'
import { and, leaf, leafOf, MAX_BIND_PARAMS, not, or, param, quoteIdent, type Condition, type Param } from './sql.js'
import { describe, expected, scalarToText } from './values.js'

const comparisons = ['equals', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte', 'not']
const stringOps = [...comparisons, 'contains', 'startsWith', 'endsWith', 'mode']
const equalityOps = ['equals', 'in', 'notIn', 'not']
const listOps = ['equals', 'has', 'hasEvery', 'hasSome', 'isEmpty']
const relationOps = 'some, every, none, is, isNot'

const operators = { lt: '<', lte: '<=', gt: '>', gte: '>=' } as const
const inverted = { lt: '>=', lte: '>', gt: '<=', gte: '<' } as const
const likePatterns = {
  contains: (text: string) => `%${text}%`,
  startsWith: (text: string) => `${text}%`,
  endsWith: (text: string) => `%${text}`,
} as const
type Comparison = keyof typeof operators
type LikeOp = keyof typeof likePatterns

export type WhereLimits = Pick<SyncLimits, 'whereConditions' | 'whereDepth' | 'shapeParams'>

/** Compiles a Prisma where input; `true` when it filters nothing. */
export function compileWhere(model: ModelMeta, where: unknown, limits: WhereLimits = defaultLimits): Condition {
  if (isAbsent(where)) return true
  if (!isPlainObject(where)) throw new ShapeError('where', `expected a where object, got ${describe(where)}`)
  return new WhereCompiler(model, limits).object(where, 'where', 0, 1) ?? true
}

class WhereCompiler {
  private conditions = 0
  private params = 0

  constructor(private readonly model: ModelMeta, private readonly limits: WhereLimits) {}

  /**
   * One where object; `null` when it has no filters at all (Prisma's "empty filter"). `depth` counts
   * groups (Prisma's nesting rules), `level` the input's nesting of objects and arrays (whereDepth).
   */
  object(where: Record<string, unknown>, path: string, depth: number, level: number): Condition | null {
    this.enter(path, level)
    const parts: Condition[] = []
    for (const [key, value] of Object.entries(where)) {
      if (isAbsent(value)) continue
      const part = key === 'AND' || key === 'OR' || key === 'NOT'
        ? this.group(key, value, `${path}.${key}`, depth, level + 1)
        : this.field(key, value, `${path}.${key}`, level + 1)
      if (part !== null) parts.push(part)
    }
    return parts.length ? and(parts) : null
  }

  private group(kind: 'AND' | 'OR' | 'NOT', value: unknown, path: string, depth: number, level: number): Condition | null {
    const list = Array.isArray(value)
    if (list) this.enter(path, level)
    const items: [unknown, string][] = list
      ? value.map((item, i) => [item, `${path}[${i}]`])
      : [[value, path]]
    const parts: Condition[] = []
    for (const [item, itemPath] of items) {
      if (!isPlainObject(item)) throw new ShapeError(itemPath, `expected a where object, got ${describe(item)}`)
      const part = this.object(item, itemPath, depth + 1, list ? level + 1 : level)
      if (part !== null) parts.push(part)
    }
    if (parts.length === 0 && depth > 0) return null
    if (kind === 'AND') return and(parts)
    if (kind === 'OR') return or(parts)
    return and(parts.map(not))
  }

  private field(key: string, value: unknown, path: string, level: number): Condition | null {
    const field = this.model.fields.get(key)
    if (!field) {
      if (this.model.primaryKey.length > 1 && key === this.model.primaryKey.join('_')) return this.compoundKey(value, path)
      throw new ShapeError(path, `unknown field "${key}" on model ${this.model.name}`)
    }
    if (field.kind === 'object') throw this.relationFilter(field, value, path)
    if (field.type === 'Json') {
      const op = isPlainObject(value) ? Object.keys(value)[0] : undefined
      throw new ShapeError(op ? `${path}.${op}` : path,
        'filters on Json fields (equals, path, string_contains, array_contains, ...) are not supported in shapes')
    }
    const parts = field.isList ? this.listFilter(field, value, path) : this.scalarFilter(field, value, path, level)
    return parts.length ? and(parts) : null
  }

  private scalarFilter(field: FieldMeta, value: unknown, path: string, level: number): Condition[] {
    if (!isFilterObject(value)) return [this.compare(field, '=', value, path, false)]
    this.enter(path, level)
    const allowed = operatorsOf(field)
    const mode = value.mode
    if (!isAbsent(mode)) {
      if (!allowed.includes('mode')) throw unsupported(field, 'mode', `${path}.mode`)
      if (mode !== 'default' && mode !== 'insensitive') {
        throw new ShapeError(`${path}.mode`, `expected 'default' or 'insensitive', got ${describe(mode)}`)
      }
      if (mode === 'insensitive' && field.pgType === 'uuid') {
        throw new ShapeError(`${path}.mode`, `mode 'insensitive' is not supported on uuid field ${field.name}`)
      }
    }
    return this.operations(field, value, path, false, mode === 'insensitive', false, level)
  }

  /** The operations of a filter object; inside an odd number of `not: { ... }` (`reverse`) each one is inverted. */
  private operations(
    field: FieldMeta, filter: Record<string, unknown>, path: string, reverse: boolean, insensitive: boolean, nested: boolean, level: number,
  ): Condition[] {
    const allowed = operatorsOf(field)
    const parts: Condition[] = []
    for (const [op, value] of Object.entries(filter)) {
      if (isAbsent(value)) continue
      const opPath = `${path}.${op}`
      if (op === 'mode') {
        if (nested) throw new ShapeError(opPath, 'mode goes next to not, not inside it')
        continue
      }
      if (op === 'search') throw new ShapeError(opPath, 'full-text search is not supported in shapes')
      if (!allowed.includes(op)) throw unsupported(field, op, opPath)
      switch (op) {
        case 'equals':
          parts.push(this.compare(field, reverse ? '<>' : '=', value, opPath, insensitive))
          break
        case 'not':
          if (!isFilterObject(value)) {
            parts.push(this.compare(field, '<>', value, opPath, insensitive)) // `not: v` is `<> v` at any depth
            break
          }
          this.enter(opPath, level + 1)
          for (const part of this.operations(field, value, opPath, !reverse, insensitive, true, level + 1)) parts.push(part)
          break
        case 'in':
        case 'notIn':
          parts.push(this.inList(field, (op === 'in') !== reverse, value, opPath, insensitive))
          break
        case 'lt': case 'lte': case 'gt': case 'gte':
          if (value === null) throw new ShapeError(opPath, `expected ${expected(field)}, got null`)
          parts.push(this.compare(field, reverse ? inverted[op as Comparison] : operators[op as Comparison], value, opPath, insensitive))
          break
        default:
          parts.push(this.like(field, op as LikeOp, value, opPath, reverse, insensitive))
      }
    }
    return parts
  }

  private compare(field: FieldMeta, operator: string, value: unknown, path: string, insensitive: boolean): Condition {
    this.condition()
    const column = quoteIdent(field.column)
    if (value === null) {
      this.checkNullable(field, path)
      if (operator === '=') return leaf(`${column} IS NULL`)
      if (operator === '<>') return leaf(`${column} IS NOT NULL`)
      throw new ShapeError(path, `expected ${expected(field)}, got null`)
    }
    const placeholder = this.param(this.text(field, value, path), field.pgType)
    return insensitive
      ? leaf(`lower(${column}) ${operator} lower(`, placeholder, ')')
      : leaf(`${column} ${operator} `, placeholder)
  }

  private inList(field: FieldMeta, positive: boolean, value: unknown, path: string, insensitive: boolean): Condition {
    this.condition()
    const column = quoteIdent(field.column)
    if (value === null) {
      this.checkNullable(field, path)
      return leaf(`${column} ${positive ? 'IS NULL' : 'IS NOT NULL'}`)
    }
    if (!Array.isArray(value)) throw new ShapeError(path, `expected a list of ${expected(field)}, got ${describe(value)}`)
    if (value.length === 0) {
      if (positive) throw new ShapeError(path, 'an empty list matches no rows; leave the filter out or give at least one value')
      return true
    }
    // Insensitive lists take a parameter per value (`lower()` of each); counted before any is read.
    if (insensitive) this.reserveParams(value.length)
    const texts = value.map((item: unknown, i) => this.text(field, item, `${path}[${i}]`))
    if (insensitive) {
      const pieces: (string | Param)[] = [`lower(${column}) ${positive ? 'IN' : 'NOT IN'} (`]
      texts.forEach((text, i) => pieces.push(i ? ', lower(' : 'lower(', param(text, field.pgType), ')'))
      pieces.push(')')
      return leafOf(pieces)
    }
    const list = this.param(formatArray(texts), field.pgType, true)
    return leaf(`${column} ${positive ? '= ANY(' : '<> ALL('}`, list, ')')
  }

  private like(field: FieldMeta, op: LikeOp, value: unknown, path: string, reverse: boolean, insensitive: boolean): Condition {
    if (typeof value !== 'string') throw new ShapeError(path, `expected a string, got ${describe(value)}`)
    this.condition()
    const escaped = this.text(field, value, path).replace(/[\\%_]/g, '\\$&')
    const operator = `${reverse ? 'NOT ' : ''}${insensitive ? 'ILIKE' : 'LIKE'}`
    return leaf(`${quoteIdent(field.column)} ${operator} `, this.param(likePatterns[op](escaped), 'text'))
  }

  private listFilter(field: FieldMeta, filter: unknown, path: string): Condition[] {
    if (!isFilterObject(filter)) {
      throw new ShapeError(path, `expected a list filter (${listOps.join(', ')}), got ${describe(filter)}`)
    }
    const entries = Object.entries(filter).filter(([, value]) => !isAbsent(value))
    if (entries.length !== 1) {
      throw new ShapeError(path, `a list filter takes exactly one of ${listOps.join(', ')} (as in Prisma); combine several with AND`)
    }
    const [op, value] = entries[0]!
    this.condition()
    const column = quoteIdent(field.column)
    const opPath = `${path}.${op}`
    switch (op) {
      case 'equals':
        return [value === null ? leaf(`${column} IS NULL`) : leaf(`${column} = `, this.listParam(field, value, opPath))]
      case 'has': // `@>`, not `= ANY`: they differ on lists holding NULLs, and Prisma uses `@>`
        return [leaf(`${column} @> `, this.param(formatArray([value === null ? null : this.text(field, value, opPath)]), field.pgType, true))]
      case 'hasEvery':
        return [leaf(`${column} @> `, this.listParam(field, value, opPath))]
      case 'hasSome':
        return [leaf(`${column} && `, this.listParam(field, value, opPath))]
      case 'isEmpty':
        if (typeof value !== 'boolean') throw new ShapeError(opPath, `expected a boolean, got ${describe(value)}`)
        return [leaf(`${column} ${value ? '=' : '<>'} '{}'`)]
      default:
        throw unsupported(field, op, opPath)
    }
  }

  private listParam(field: FieldMeta, value: unknown, path: string): Param {
    if (!Array.isArray(value)) throw new ShapeError(path, `expected a list of ${expected(field)}, got ${describe(value)}`)
    const texts = value.map((item: unknown, i) => this.text(field, item, `${path}[${i}]`))
    return this.param(formatArray(texts), field.pgType, true)
  }

  /** Prisma's compound-id input in a where: `userId_projectId: { userId, projectId }`. */
  private compoundKey(value: unknown, path: string): Condition {
    if (!isPlainObject(value)) throw new ShapeError(path, `expected an object with ${this.model.primaryKey.join(', ')}, got ${describe(value)}`)
    for (const key of Object.keys(value)) {
      if (!this.model.primaryKey.includes(key)) throw new ShapeError(`${path}.${key}`, `not a field of the primary key (${this.model.primaryKey.join(', ')})`)
    }
    return and(this.model.primaryKey.map((name) => {
      const field = this.model.fields.get(name)!
      const item = value[name]
      if (item === null || isAbsent(item)) throw new ShapeError(`${path}.${name}`, `expected ${expected(field)}, got ${describe(item ?? null)}`)
      return this.compare(field, '=', item, `${path}.${name}`, false)
    }))
  }

  private relationFilter(field: FieldMeta, value: unknown, path: string): ShapeError {
    const op = isPlainObject(value) ? Object.keys(value)[0] : undefined
    const keys = field.relation?.fromFields.length ? `; filter on ${field.relation.fromFields.join(', ')} instead` : ''
    return new ShapeError(op ? `${path}.${op}` : path,
      `relation filters (${relationOps}) are not supported in shapes: a shape cannot follow changes in related tables yet${keys}`)
  }

  private text(field: FieldMeta, value: unknown, path: string): string {
    if (value === null) throw new ShapeError(path, `expected ${expected(field)}, got null`)
    if (isFieldRef(value)) throw new ShapeError(path, 'field references (prisma.<model>.fields.<field>) are not supported in shapes')
    return scalarToText(field, value, path)
  }

  /** A parameter, counted against shapeParams. */
  private param(text: string, pgType: string, isArray = false): Param {
    this.reserveParams(1)
    return param(text, pgType, isArray)
  }

  private reserveParams(count: number): void {
    this.params += count
    const max = Math.min(this.limits.shapeParams, MAX_BIND_PARAMS)
    if (this.params > max) throw new LimitError('shapeParams', max, `the shape needs more than ${max} parameters`)
  }

  private condition(): void {
    const max = this.limits.whereConditions
    if (++this.conditions > max) throw new LimitError('whereConditions', max, `the where has more than ${max} conditions`)
  }

  /** Entering an object or array at `level` of the input's nesting. */
  private enter(path: string, level: number): void {
    const max = this.limits.whereDepth
    if (level > max) throw new LimitError('whereDepth', max, `${path}: the where is nested more than ${max} levels deep`)
  }

  private checkNullable(field: FieldMeta, path: string): void {
    if (field.isRequired) throw new ShapeError(path, `must not be null: ${field.name} is a required field`)
  }
}

function operatorsOf(field: FieldMeta): string[] {
  if (field.kind === 'enum' || field.type === 'Bytes') return equalityOps
  if (field.type === 'Boolean') return ['equals', 'not']
  if (field.type === 'String') return field.pgType === 'uuid' ? [...comparisons, 'mode'] : stringOps
  return comparisons
}

function unsupported(field: FieldMeta, op: string, path: string): ShapeError {
  const type = field.kind === 'enum' ? `enum ${field.type}` : field.type
  const ops = field.isList ? listOps : operatorsOf(field)
  return new ShapeError(path, `unsupported filter "${op}" on ${type}${field.isList ? '[]' : ''} field ${field.name}; supported: ${ops.join(', ')}`)
}

function isAbsent(value: unknown): value is undefined {
  return value === undefined || value === skip
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** A filter object such as `{ gt: 1 }`, as opposed to a value (Date, Decimal, Uint8Array, ...). */
function isFilterObject(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) && typeof value.toFixed !== 'function'
}

function isFieldRef(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'modelName' in value && 'typeName' in value
}
