// fast-check generators of Prisma `where` inputs that Prisma itself accepts, over a description of a
// model's fields, and the one rewrite needed to ask Prisma the same question (see prismaEquivalent).
import fc from 'fast-check'

export interface ScalarSpec {
  kind: 'scalar'
  name: string
  value: fc.Arbitrary<unknown>
  /** Values for `in` / `notIn` lists, when they must differ from `value`. */
  listValue?: fc.Arbitrary<unknown>
  nullable: boolean
  /** Filter operations Prisma offers for this field type (besides `not`). */
  ops: readonly ('equals' | 'in' | 'notIn' | 'lt' | 'lte' | 'gt' | 'gte' | 'contains' | 'startsWith' | 'endsWith')[]
  /** String fields take `mode`. */
  mode?: boolean
  /** How often the field is picked relative to others (default 1). */
  weight?: number
}

export interface ListSpec {
  kind: 'list'
  name: string
  element: fc.Arbitrary<unknown>
}

export type FieldSpec = ScalarSpec | ListSpec

export const comparable = ['equals', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte'] as const
export const stringOps = [...comparable, 'contains', 'startsWith', 'endsWith'] as const
export const equality = ['equals', 'in', 'notIn'] as const

type Entry = [string, unknown]

/** Where objects nested up to `depth` levels of AND / OR / NOT. */
export function whereArbitrary(fields: readonly FieldSpec[], depth: number, extra: fc.Arbitrary<Entry>[] = []): fc.Arbitrary<Record<string, unknown>> {
  const entry: fc.WeightedArbitrary<Entry>[] = [
    ...fields.map((spec) => ({ weight: spec.kind === 'scalar' ? spec.weight ?? 1 : 1, arbitrary: fieldEntry(spec) })),
    ...extra.map((arbitrary) => ({ weight: 1, arbitrary })),
  ]
  if (depth > 0) {
    const inner = whereArbitrary(fields, depth - 1, extra)
    entry.push(
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom('AND', 'NOT'), fc.oneof(inner, fc.array(inner, { maxLength: 3 }))) },
      // OR as an object is our extension; prismaEquivalent wraps it in an array for Prisma.
      { weight: 1, arbitrary: fc.tuple(fc.constant('OR'), fc.oneof({ weight: 1, arbitrary: inner }, { weight: 4, arbitrary: fc.array(inner, { maxLength: 3 }) })) },
    )
  }
  return fc.oneof(
    { weight: 9, arbitrary: fc.array(fc.oneof(...entry), { minLength: 1, maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constant([]) },
  ).map((entries) => Object.fromEntries(entries))
}

function fieldEntry(spec: FieldSpec): fc.Arbitrary<Entry> {
  return fc.tuple(fc.constant(spec.name), spec.kind === 'list' ? listFilter(spec) : scalarFilter(spec))
}

function scalarFilter(spec: ScalarSpec): fc.Arbitrary<unknown> {
  const value = spec.nullable ? fc.oneof({ weight: 5, arbitrary: spec.value }, { weight: 1, arbitrary: fc.constant(null) }) : spec.value
  const filter = someOf(operations(spec, 2, false))
  if (!spec.mode) return fc.oneof(value, filter)
  const withMode = fc.tuple(filter, fc.constantFrom('insensitive', 'insensitive', 'default', undefined))
    .map(([ops, mode]) => (mode === undefined ? ops : { ...ops, mode }))
  return fc.oneof(value, withMode)
}

/** Filter objects with one or two operations (more would almost never match a row), sometimes none. */
function someOf(ops: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const keys = fc.oneof(
    { weight: 9, arbitrary: fc.uniqueArray(fc.constantFrom(...Object.keys(ops)), { minLength: 1, maxLength: 2 }) },
    { weight: 1, arbitrary: fc.constant([]) },
  )
  return keys.chain((picked) => fc.record(Object.fromEntries(picked.map((key) => [key, ops[key]!]))))
}

/**
 * The operations of a filter object. `reversed` tracks odd nesting under `not`, where Prisma turns
 * `notIn` into `IN`: an empty list there would be an (intentionally rejected) empty IN.
 */
function operations(spec: ScalarSpec, depth: number, reversed: boolean): Record<string, fc.Arbitrary<unknown>> {
  const nullable = (arb: fc.Arbitrary<unknown>) => (spec.nullable ? fc.oneof({ weight: 5, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(null) }) : arb)
  const ops: Record<string, fc.Arbitrary<unknown>> = {}
  for (const op of spec.ops) {
    if (op === 'equals') ops.equals = nullable(spec.value)
    else if (op === 'in' || op === 'notIn') {
      const emptyAllowed = (op === 'notIn') !== reversed
      ops[op] = nullable(fc.array(spec.listValue ?? spec.value, { minLength: emptyAllowed ? 0 : 1, maxLength: 4 }))
    } else if (op === 'contains' || op === 'startsWith' || op === 'endsWith') ops[op] = spec.value.filter((v) => typeof v === 'string')
    else ops[op] = spec.value
  }
  const nested = depth > 0 ? [someOf(operations(spec, depth - 1, !reversed))] : []
  ops.not = fc.oneof(nullable(spec.value), ...nested)
  return ops
}

function listFilter(spec: ListSpec): fc.Arbitrary<unknown> {
  // Prisma takes exactly one operation per list filter.
  const list = fc.array(spec.element, { maxLength: 3 })
  return fc.oneof(
    fc.record({ equals: fc.oneof({ weight: 4, arbitrary: list }, { weight: 1, arbitrary: fc.constant(null) }) }),
    fc.record({ has: fc.oneof({ weight: 4, arbitrary: spec.element }, { weight: 1, arbitrary: fc.constant(null) }) }),
    fc.record({ hasEvery: list }),
    fc.record({ hasSome: list }),
    fc.record({ isEmpty: fc.boolean() }),
  )
}

/** Escapes LIKE wildcards the way the compiler treats values: as literal text. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&')
}

/**
 * The input that asks Prisma the question the shape answers. Two rewrites, both documented
 * differences rather than semantics: Prisma puts `contains`/`startsWith`/`endsWith` values (and
 * insensitive `equals`/`not`, which it runs as ILIKE) into LIKE patterns unescaped, while the compiler
 * treats them as literal text, so the values get escaped here; and OR given as an object (accepted by
 * the compiler, like AND and NOT) becomes a one-element array. `rewrite` handles model-specific keys.
 */
export function prismaEquivalent(
  where: Record<string, unknown>,
  stringFields: ReadonlySet<string>,
  rewrite: (where: Record<string, unknown>) => Record<string, unknown> = (w) => w,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(rewrite(where))) {
    if (key === 'AND' || key === 'OR' || key === 'NOT') {
      const items = Array.isArray(value) ? value : [value]
      const mapped = items.map((item) => prismaEquivalent(item as Record<string, unknown>, stringFields, rewrite))
      out[key] = Array.isArray(value) || key === 'OR' ? mapped : mapped[0]
    } else if (stringFields.has(key) && isFilter(value)) {
      out[key] = escapeStringFilter(value, value.mode === 'insensitive')
    } else {
      out[key] = value
    }
  }
  return out
}

function escapeStringFilter(filter: Record<string, unknown>, insensitive: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [op, value] of Object.entries(filter)) {
    if (typeof value === 'string' && (op === 'contains' || op === 'startsWith' || op === 'endsWith' || (insensitive && (op === 'equals' || op === 'not')))) {
      out[op] = escapeLike(value)
    } else if (op === 'not' && isFilter(value)) {
      out[op] = escapeStringFilter(value, insensitive)
    } else {
      out[op] = value
    }
  }
  return out
}

function isFilter(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null // fc.record makes some objects without a prototype
}

/** fast-check settings: seeded, 300 runs unless FC_NUM_RUNS asks for a longer run. */
export function runSettings(defaultRuns = 300): { numRuns: number; seed: number } {
  return {
    numRuns: Number(process.env.FC_NUM_RUNS ?? defaultRuns),
    seed: Number(process.env.FC_SEED ?? 20240611),
  }
}
