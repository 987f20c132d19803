// `sync.where(prisma.todo, { fields, operators })`: a zod schema for the Prisma `where` inputs a client
// may send, limited to the fields and operators the server allows and typed as that subset of the
// model's WhereInput. The server ANDs the result with its own constraint, so a client can narrow its
// shape but never widen it. Anything else (an unknown field or operator) fails validation with a
// WhereFilterError naming it, which tRPC answers as BAD_REQUEST with that message. Before the schema
// walks an input, where-input.ts checks it against the where limits (a LimitError, also BAD_REQUEST) and
// refuses non-JSON values; the schema's objects take only plain objects, so a Date or a Map where a
// filter object could be is refused rather than read as an empty (widening) filter.
import type { Args } from '@prisma/client/runtime/client'
import { Decimal } from '@prisma/client/runtime/client'
import { z } from 'zod'
import { defaultLimits } from '../limits/index.js'
import { modelOf, type FieldMeta } from '../shape/model.js'
import { expected } from '../shape/values.js'
import { describe, inspectWhereInput, isPlainObject, type WhereInputLimits } from './where-input.js'

export const whereOperators = [
  'equals', 'not', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte', 'contains', 'startsWith', 'endsWith', 'mode', 'AND', 'OR', 'NOT',
] as const
export type WhereOperator = (typeof whereOperators)[number]
type Group = 'AND' | 'OR' | 'NOT'

type WhereOf<D> = NonNullable<NonNullable<Args<D, 'findMany'>>['where']>
/** The fields a where input can name (relation fields are refused at run time). */
export type WhereField<D> = Exclude<keyof WhereOf<D>, Group> & string

/** A value rather than a filter object: scalars, Date, Decimal, bytes. */
type ScalarValue = string | number | boolean | bigint | null | undefined | Date | Uint8Array | { toFixed(): string }
/** Prisma's field references (`prisma.todo.fields.title`), which clients may not send. */
type FieldRef = { readonly modelName: string; readonly typeName: string }

/** One field's filter, limited to the allowed operators (`equals` also allows the bare value). */
export type FieldFilter<T, O extends string> = T extends ScalarValue
  ? ('equals' extends O ? T : never)
  : { [P in keyof T as P extends O ? P : never]?: P extends 'not' ? FieldFilter<T[P], O> : Exclude<T[P], FieldRef> }

/** The subset of a WhereInput `W` with fields `F` and operators `O`. */
export type AllowedWhere<W, F extends keyof W, O extends string> =
  & { [K in F]?: FieldFilter<Exclude<W[K], undefined>, O> }
  & ('AND' extends O ? { AND?: AllowedWhere<W, F, O> | AllowedWhere<W, F, O>[] } : unknown)
  & ('OR' extends O ? { OR?: AllowedWhere<W, F, O>[] } : unknown)
  & ('NOT' extends O ? { NOT?: AllowedWhere<W, F, O> | AllowedWhere<W, F, O>[] } : unknown)

export interface WhereSchemaOptions<F extends string, O extends WhereOperator> {
  /** Fields clients may filter on. */
  fields: readonly F[]
  /** Operators clients may use (default: all of `whereOperators`). */
  operators?: readonly O[]
}

export type WhereSchema<D, F extends WhereField<D>, O extends WhereOperator> =
  z.ZodType<AllowedWhere<WhereOf<D>, F, O>, AllowedWhere<WhereOf<D>, F, O>>

const comparisons = ['equals', 'not', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte']
const byType: Record<string, string[]> = {
  String: [...comparisons, 'contains', 'startsWith', 'endsWith', 'mode'],
  Boolean: ['equals', 'not'],
  Int: comparisons, Float: comparisons, BigInt: comparisons, Decimal: comparisons, DateTime: comparisons,
}
const uuidText = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i

/** `limits`: the where limits in force (`sync.where` passes `sync.limits`; the defaults otherwise). */
export function whereSchema<D extends object, F extends WhereField<D>, O extends WhereOperator = WhereOperator>(
  delegate: D, options: WhereSchemaOptions<F, O>, limits: WhereInputLimits = defaultLimits,
): WhereSchema<D, F, O> {
  const model = modelOf(delegate)
  const operators = new Set<string>(options.operators ?? whereOperators)
  for (const op of operators) {
    if (!(whereOperators as readonly string[]).includes(op)) throw new Error(`sync.where: unknown operator "${op}"; known: ${whereOperators.join(', ')}`)
  }
  const fieldSchemas: Record<string, z.ZodType> = {}
  for (const name of options.fields) {
    const field = model.fields.get(name)
    if (!field) throw new Error(`sync.where: model ${model.name} has no field "${name}"`)
    fieldSchemas[name] = fieldSchema(field, operators).optional()
  }
  const groupNames = (['AND', 'OR', 'NOT'] as const).filter((g) => operators.has(g))
  const self: z.ZodType = z.lazy(() => where)
  const groups: Record<string, z.ZodType> = {}
  for (const group of groupNames) groups[group] = (group === 'OR' ? z.array(self) : z.union([self, z.array(self)], unionError(0, 'a where object or a list of them'))).optional()
  const allowed = [...options.fields, ...groupNames].join(', ')
  const where = plainObject('a where object', z.strictObject({ ...fieldSchemas, ...groups }, {
    error: (issue) => issue.code === 'unrecognized_keys'
      ? `not allowed in this filter: ${issue.keys.map((k) => `"${k}"`).join(', ')} (allowed: ${allowed})`
      : undefined,
  }))
  // A refusal is thrown as one WhereFilterError naming the field, rather than left to the enclosing input
  // schema, whose ZodError message (what tRPC answers BAD_REQUEST with) is the JSON of its issue list.
  const checked = z.unknown().transform((value) => {
    const problem = inspectWhereInput(value, limits) // throws LimitError
    if (problem) throw new WhereFilterError([problem])
    const result = where.safeParse(value)
    if (!result.success) throw new WhereFilterError(result.error.issues)
    return result.data
  })
  return checked as unknown as WhereSchema<D, F, O>
}

/** A client filter the server does not allow: `message` names each refused field or operator by its path. */
export class WhereFilterError extends Error {
  readonly issues: readonly { path: PropertyKey[]; message: string }[]
  constructor(issues: readonly { path: PropertyKey[]; message: string }[]) {
    super(`invalid filter: ${issues.map((issue) => (issue.path.length ? `${filterPath(issue.path)}: ` : '') + issue.message).join('; ')}`)
    this.name = 'WhereFilterError'
    this.issues = issues
  }
}

const filterPath = (path: PropertyKey[]) =>
  path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`)).join('')

/** A field's bare value or filter object, with the operators both the field type and the server allow. */
function fieldSchema(field: FieldMeta, allowed: Set<string>): z.ZodType {
  if (field.kind === 'object') throw new Error(`sync.where: "${field.name}" is a relation; relation filters are not supported in shapes`)
  if (field.isList) throw new Error(`sync.where: list field "${field.name}" cannot be a client filter`)
  const typeOps = field.kind === 'enum' ? ['equals', 'not', 'in', 'notIn'] : byType[field.type]
  if (!typeOps) throw new Error(`sync.where: ${field.type} field "${field.name}" cannot be a client filter`)
  const uuid = field.pgType === 'uuid'
  const ops = typeOps.filter((op) => allowed.has(op) && !(uuid && ['contains', 'startsWith', 'endsWith', 'mode'].includes(op)))
  const value = valueSchema(field)
  const nullable = field.isRequired ? value : value.nullable()
  const build = (nested: boolean): z.ZodType => {
    const shape: Record<string, z.ZodType> = {}
    for (const op of ops) {
      if (op === 'equals') shape[op] = nullable.optional()
      else if (op === 'in' || op === 'notIn') shape[op] = z.array(value).min(1).optional()
      else if (op === 'not') shape[op] = z.union([nullable, z.lazy(() => build(true))], unionError(1, `${expected(field)} or a filter object`)).optional()
      else if (op === 'mode') { if (!nested) shape[op] = z.enum(['default', 'insensitive']).optional() }
      else if (op === 'contains' || op === 'startsWith' || op === 'endsWith') shape[op] = z.string().optional()
      else shape[op] = value.optional()
    }
    return plainObject(`a filter object for "${field.name}"`, z.strictObject(shape, {
      error: (issue) => issue.code === 'unrecognized_keys'
        ? `operator ${issue.keys.map((k) => `"${k}"`).join(', ')} not allowed on "${field.name}"${nested ? ' inside not' : ''} (allowed: ${Object.keys(shape).join(', ') || 'none'})`
        : undefined,
    }))
  }
  const filter = build(false)
  if (!ops.includes('equals')) return filter
  return z.union([nullable, filter], unionError(1, `${expected(field)} or a filter object`))
}

/**
 * The message of a union of a value and an object schema (option `objectOption`): for an object, what
 * that schema refused in it; otherwise what was expected (zod would say only "Invalid input").
 */
function unionError(objectOption: number, what: string) {
  return {
    error: (issue: { code?: string; input?: unknown; errors?: readonly (readonly { path: PropertyKey[]; message: string }[])[] }) => {
      if (issue.code !== 'invalid_union') return undefined
      const inner = isPlainObject(issue.input) ? issue.errors?.[objectOption]?.[0] : undefined
      if (inner) return inner.path.length ? `${filterPath(inner.path)}: ${inner.message}` : inner.message
      return `expected ${what}, got ${describe(issue.input)}`
    },
  }
}

/** An object schema that takes only plain objects: zod's own reads a Date, Map or class instance as `{}`. */
function plainObject(what: string, schema: z.ZodType): z.ZodType {
  return z.custom<unknown>(isPlainObject, { error: (issue) => `expected ${what}, got ${describe(issue.input)}` }).pipe(schema)
}

function valueSchema(field: FieldMeta): z.ZodType {
  if (field.kind === 'enum') return z.enum([...field.enumValues!.keys()] as [string, ...string[]])
  switch (field.type) {
    case 'String': return field.pgType === 'uuid' ? z.string().regex(uuidText, 'expected a uuid') : z.string()
    case 'Boolean': return z.boolean()
    case 'Int': return z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1)
    case 'Float': return z.number()
    case 'BigInt': return z.union([z.bigint(), z.number().int()])
    case 'Decimal': return z.union([z.number(), z.string().regex(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/, 'expected a decimal'), z.custom<Decimal>((v) => Decimal.isDecimal(v), 'expected a Decimal')])
    default: return z.union([z.date(), z.iso.datetime({ offset: true })]) // DateTime
  }
}
