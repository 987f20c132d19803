// Differential test: the evaluator's verdict on random (row, where clause) pairs equals Postgres's
// `(<clause>) IS TRUE` over the same row. Runs FC_NUM_RUNS pairs (default 1,000; FC_SEED to replay).
//
// Rows are generated as Postgres input text, typed by Postgres, and read back in Postgres's text form
// (the output functions pgoutput uses, with Electric's session settings), which is what the evaluator sees.
// When Postgres raises an error for a clause (division by zero, overflow, bad input for a cast), the
// evaluator must either refuse the clause when compiling it (Postgres failed while planning, folding a
// constant) or report no match.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import pg from 'pg'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { lit, Param, render, sql, type Sql } from '../support/sql-fragments.js'
import { compileWhere, WhereError, type Collation, type ColumnTypes } from '../../src/where/index.js'
import { databaseCollation, DATABASE_COLLATION_SQL } from '../../src/engine/collations.js'

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 1000)
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED)

// ---- the table

type Ty =
  | 'int2' | 'int4' | 'int8' | 'numeric' | 'float4' | 'float8' | 'text' | 'varchar' | 'bpchar' | 'bool' | 'uuid'
  | 'date' | 'time' | 'timestamp' | 'timestamptz' | 'bytea' | 'mood' | 'int4[]' | 'text[]'

const TYPES: readonly Ty[] = [
  'int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'text', 'varchar', 'bpchar', 'bool', 'uuid',
  'date', 'time', 'timestamp', 'timestamptz', 'bytea', 'mood', 'int4[]', 'text[]',
]
const MOODS = ['sad', 'ok', 'happy']
const column = (t: Ty) => `c_${t.replace('[]', 's')}`
/** The SQL type of each column (bpchar is char(4), so values are padded). */
const sqlType = (t: Ty) => (t === 'bpchar' ? 'char(4)' : t)

const COLUMNS: ColumnTypes = new Map(TYPES.map((t) => [
  column(t),
  t === 'mood'
    ? { type: 'mood', dims: 0, isEnum: true, enumLabels: MOODS }
    : { type: t.replace('[]', ''), dims: t.endsWith('[]') ? 1 : 0 },
]))

// ---- values, as Postgres input text

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs)
const CHARS = ['a', 'b', 'A', 'B', 'z', ' ', '%', '_', '\\', "'", '"', ',', '{', '}', 'é', 'É', 'ß', 'İ', 'Σ', 'σ', 'ς', '😀', '\uE000', 'ﬀ', 'ᾳ', 'N', 'U', 'L']
const textValue = fc.oneof(
  fc.string({ unit: pick(...CHARS), maxLength: 6 }),
  pick('', 'a', 'ab', 'abc', 'NULL', 'a b', 'ABC', 'Abc'),
)
const int = (min: number, max: number) => fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min, max }), pick(min, max))
const digits = (min: number, max: number) => fc.string({ unit: pick('0', '1', '2', '5', '9'), minLength: min, maxLength: max })
const numericText = fc.oneof(
  int(-1000, 1000).map(String),
  fc.tuple(pick('', '-'), digits(1, 22), digits(0, 10)).map(([s, a, b]) => (b ? `${s}${a}.${b}` : `${s}${a}`)),
  pick('NaN', 'Infinity', '-Infinity', '0.000', '-0.5', '1.50', '1.5', '0.1', '99999999999999999999.99'),
)
const floatText = (single: boolean) => fc.oneof(
  (single ? fc.float() : fc.double()).map((x) => (Object.is(x, -0) ? '-0' : Number.isNaN(x) ? 'NaN' : String(x))),
  fc.tuple(int(-100, 100), pick(1, 2, 3, 4, 10, 100)).map(([a, b]) => String(a / b)),
  pick('NaN', 'Infinity', '-Infinity', '0', '-0', '1e308', '0.1', '1.5'),
)
const pad = (n: number, w: number) => String(n).padStart(w, '0')
const dateText = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), fc.boolean())
    .map(([y, m, d, bc]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}${bc && y < 4000 ? ' BC' : ''}`),
  pick('2024-02-29', '2000-01-01', '1999-12-31', '1970-01-01', 'infinity', '-infinity'),
)
const timeText = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 999999 }), fc.boolean())
  .map(([h, m, s, us, frac]) => `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${frac ? `.${pad(us, 6)}` : ''}`)
const timestampText = (zone: boolean) => fc.oneof(
  fc.tuple(dateText.filter((d) => !d.includes('inf')), timeText, zone ? pick('', '+00', 'Z', '+05:30', '-08', '+0100') : fc.constant(''))
    .map(([d, t, z]) => (d.endsWith(' BC') ? `${d.slice(0, -3)} ${t}${z} BC` : `${d} ${t}${z}`)),
  pick('infinity', '-infinity', '2000-01-01 00:00:00'),
)
const uuidText = fc.uuid().chain((u) => pick(u, u.toUpperCase(), `{${u}}`, u.replaceAll('-', '')))
const arrayText = (element: fc.Arbitrary<string>, quote: boolean) =>
  fc.array(fc.option(element, { freq: 4 }), { maxLength: 4 }).map((items) =>
    `{${items.map((v) => (v === null ? 'NULL' : quote ? `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"` : v)).join(',')}}`)

const VALUES: Record<Ty, fc.Arbitrary<string>> = {
  int2: int(-32768, 32767).map(String),
  int4: int(-2147483648, 2147483647).map(String),
  int8: fc.oneof(int(-1000, 1000).map(String), fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map(String), pick('9007199254740993')),
  numeric: numericText,
  float4: floatText(true),
  float8: floatText(false),
  text: textValue,
  varchar: textValue,
  bpchar: fc.string({ unit: pick('a', 'b', ' ', 'é'), maxLength: 4 }),
  bool: pick('true', 'false', 't', 'f', 'yes', 'off'),
  uuid: uuidText,
  date: dateText,
  time: timeText,
  timestamp: timestampText(false),
  timestamptz: timestampText(true),
  bytea: fc.oneof(
    fc.uint8Array({ maxLength: 4 }).map((b) => `\\x${[...b].map((x) => x.toString(16).padStart(2, '0')).join('')}`),
    fc.string({ unit: pick('a', 'b', 'é', '\\\\', '\\001'), maxLength: 3 }),
  ),
  mood: pick(...MOODS),
  'int4[]': arrayText(int(-5, 5).map(String), false),
  'text[]': arrayText(textValue, true),
}

const rowArb = fc.record(Object.fromEntries(TYPES.map((t) => [t, fc.option(VALUES[t], { freq: 5 })])) as Record<Ty, fc.Arbitrary<string | null>>)

// ---- where clauses (SQL fragments: test/support/sql-fragments.ts)

const NUMERIC_TYPES: readonly Ty[] = ['int2', 'int4', 'int8', 'numeric', 'float4', 'float8']
const STRING_TYPES: readonly Ty[] = ['text', 'varchar', 'bpchar']
/** Types a value of `t` can be compared with (Postgres has cross-type operators or implicit casts). */
function comparable(t: Ty): readonly Ty[] {
  if (NUMERIC_TYPES.includes(t)) return NUMERIC_TYPES
  if (STRING_TYPES.includes(t)) return STRING_TYPES
  if (t === 'date' || t === 'timestamp' || t === 'timestamptz') return ['date', 'timestamp', 'timestamptz']
  return [t]
}

/** A typed expression of type t: a column, a literal, a parameter, or an operation. */
function expr(t: Ty, depth: number): fc.Arbitrary<Sql> {
  const leaves: fc.Arbitrary<Sql>[] = [
    fc.constant([`"${column(t)}"`]),
    fc.constant([`"${column(t)}"`]),
    VALUES[t].map((v) => [`${lit(v)}::${t}`]),
    VALUES[t].map((v) => [new Param(v, t)]),
  ]
  if (t === 'int4') leaves.push(int(-50, 50).map((n) => [String(n)]))
  if (t === 'numeric') leaves.push(pick('1.5', '0.0', '-2.50', '100', '1e3').map((x) => [x]))
  if (depth <= 0) return fc.oneof(...leaves)
  const sub = (u: Ty) => expr(u, depth - 1)
  const ops: fc.Arbitrary<Sql>[] = [
    fc.tuple(sub(t), sub(t)).map(([a, b]) => sql`coalesce(${a}, ${b})`),
    fc.tuple(sub(t), sub(t)).map(([a, b]) => sql`nullif(${a}, ${b})`),
  ]
  if (t !== 'bool' && t !== 'int4[]' && t !== 'text[]') ops.push(fc.tuple(sub(t), sub(t)).map(([a, b]) => sql`greatest(${a}, ${b})`))
  if (NUMERIC_TYPES.includes(t)) {
    const arith = t === 'float4' || t === 'float8' ? pick('+', '-', '*', '/') : pick('+', '-', '*', '/', '%')
    ops.push(
      fc.tuple(sub(t), arith, sub(t)).map(([a, op, b]) => sql`(${a} ${op} ${b})`),
      sub(t).map((a) => sql`(- ${a})`),
      pick(...NUMERIC_TYPES).chain((x) => sub(x).map((a) => sql`(${a})::${t}`)),
    )
    if (t === 'numeric') ops.push(fc.tuple(sub('int4'), arith, sub('numeric')).map(([a, op, b]) => sql`(${a} ${op} ${b})`))
    if (t === 'float8') ops.push(fc.tuple(sub('int8'), pick('+', '*'), sub('float4')).map(([a, op, b]) => sql`(${a} ${op} ${b})`))
    if (t === 'int4') ops.push(sub('date').chain((d) => sub('date').map((e) => sql`(${d} - ${e})`)))
  }
  if (t === 'text') {
    ops.push(
      sub('text').map((a) => sql`lower(${a})`),
      sub('text').map((a) => sql`upper(${a})`),
      fc.tuple(sub('text'), sub('text')).map(([a, b]) => sql`(${a} || ${b})`),
      fc.tuple(sub('text'), pick(...TYPES.filter((u) => !u.endsWith('[]')))).chain(([a, u]) => sub(u).map((b) => sql`(${a} || ${b})`)),
      fc.tuple(pick(...TYPES), pick(...TYPES)).chain(([u, v]) => fc.tuple(sub(u), sub(v)).map(([a, b]) => sql`concat(${a}, ${b})`)),
      pick(...TYPES).chain((u) => sub(u).map((a) => sql`(${a})::text`)),
      sub('varchar').map((a) => sql`(${a})::text`),
      sub('bpchar').map((a) => sql`lower(${a})`),
    )
  }
  if (t === 'date') ops.push(fc.tuple(sub('date'), pick('+', '-'), sub('int4')).map(([a, op, b]) => sql`(${a} ${op} ${b})`), sub('timestamptz').map((a) => sql`(${a})::date`))
  if (t === 'timestamptz') ops.push(pick<Ty>('date', 'timestamp').chain((u) => sub(u).map((a) => sql`(${a})::timestamptz`)))
  if (t === 'timestamp') ops.push(sub('timestamptz').map((a) => sql`(${a})::timestamp`))
  if (t === 'time') ops.push(sub('timestamp').map((a) => sql`(${a})::time`))
  if (t === 'int4') ops.push(pick<Ty>('text', 'bool').chain((u) => sub(u).map((a) => sql`(${a})::int4`)))
  if (t === 'numeric') ops.push(sub('text').map((a) => sql`(${a})::numeric`))
  if (t === 'bool') ops.push(boolExpr(depth - 1))
  if (t === 'mood') ops.push(sub('text').map((a) => sql`(${a})::mood`))
  if (t === 'int4[]' || t === 'text[]') {
    const element: Ty = t === 'int4[]' ? 'int4' : 'text'
    ops.push(
      fc.array(sub(element), { minLength: 1, maxLength: 3 }).map((xs) => sql`ARRAY[${xs.flatMap((x, i) => (i ? [', ', ...x] : x))}]`),
      fc.tuple(sub(t), sub(element)).map(([a, b]) => sql`(${a} || ${b})`),
      fc.tuple(sub(element), sub(t)).map(([a, b]) => sql`(${a} || ${b})`),
      fc.tuple(sub(t), sub(t)).map(([a, b]) => sql`(${a} || ${b})`),
    )
  }
  return fc.oneof({ arbitrary: fc.oneof(...leaves), weight: 3 }, { arbitrary: fc.oneof(...ops), weight: 1 })
}

/** A value to compare with `t`: often an untyped parameter or literal, which takes the other side's type. */
function operand(t: Ty, depth: number): fc.Arbitrary<Sql> {
  return fc.oneof(
    { arbitrary: pick(...comparable(t)).chain((u) => expr(u, depth)), weight: 4 },
    { arbitrary: VALUES[t].map((v) => [new Param(v)]), weight: 1 },
    { arbitrary: VALUES[t].map((v) => [lit(v)]), weight: 1 },
  )
}

const likePattern = fc.string({ unit: pick('a', 'A', 'b', '%', '_', '\\', 'é', 'É', 'ß', '😀', '!', ' '), maxLength: 5 })

function boolExpr(depth: number): fc.Arbitrary<Sql> {
  const anyType = pick(...TYPES)
  const scalarTypes = TYPES.filter((t) => !t.endsWith('[]'))
  const d = Math.max(depth, 0)
  const leaves: fc.Arbitrary<Sql>[] = [
    // comparisons, also across types
    fc.tuple(pick(...TYPES), pick('=', '<>', '<', '>', '<=', '>=')).chain(([t, op]) =>
      fc.tuple(expr(t, d), operand(t, d)).chain(([a, b]) => fc.boolean().map((swap) => (swap ? sql`${b} ${op} ${a}` : sql`${a} ${op} ${b}`)))),
    anyType.chain((t) => expr(t, d).chain((a) => pick('IS NULL', 'IS NOT NULL').map((n) => sql`(${a}) ${n}`))),
    anyType.chain((t) => fc.tuple(expr(t, d), operand(t, d), pick('IS DISTINCT FROM', 'IS NOT DISTINCT FROM')).map(([a, b, op]) => sql`${a} ${op} ${b}`)),
    fc.tuple(pick(...scalarTypes), pick('IN', 'NOT IN')).chain(([t, op]) =>
      fc.tuple(expr(t, d), fc.array(operand(t, d), { minLength: 1, maxLength: 4 }))
        .map(([a, xs]) => sql`${a} ${op} (${xs.flatMap((x, i) => (i ? [', ', ...x] : x))})`)),
    fc.tuple(pick(...scalarTypes), pick('BETWEEN', 'NOT BETWEEN', 'BETWEEN SYMMETRIC', 'NOT BETWEEN SYMMETRIC')).chain(([t, op]) =>
      fc.tuple(expr(t, d), operand(t, d), operand(t, d)).map(([a, b, c]) => sql`${a} ${op} ${b} AND ${c}`)),
    fc.tuple(pick<Ty>('text', 'varchar', 'bpchar'), pick('LIKE', 'ILIKE', 'NOT LIKE', 'NOT ILIKE')).chain(([t, op]) =>
      fc.tuple(expr(t, d), fc.oneof(likePattern.map((p) => [lit(p)] as Sql), likePattern.map((p) => [new Param(p)] as Sql), expr('text', d)), fc.boolean())
        .map(([a, p, esc]) => (esc ? sql`${a} ${op} ${p} ESCAPE '!'` : sql`${a} ${op} ${p}`))),
    fc.tuple(pick<Ty>('int4[]', 'text[]'), pick('= ANY', '<> ALL', '< ANY', '>= ALL', '= ALL', '<> ANY')).chain(([t, op]) => {
      const element: Ty = t === 'int4[]' ? 'int4' : 'text'
      return fc.tuple(operand(element, d), expr(t, d)).map(([a, arr]) => sql`${a} ${op}(${arr})`)
    }),
    // arrays of every element type, as parameters (the shape compiler's `= ANY($1::uuid[])`)
    fc.tuple(pick(...scalarTypes), pick('= ANY', '<> ALL', '< ANY')).chain(([t, op]) =>
      fc.tuple(expr(t, d), arrayText(VALUES[t], true), fc.boolean()).map(([a, arr, cast]) =>
        sql`${a} ${op}(${[new Param(arr, cast ? `${t}[]` : undefined)]})`)),
    fc.tuple(pick<Ty>('int4[]', 'text[]'), pick('@>', '<@', '&&')).chain(([t, op]) =>
      fc.tuple(expr(t, d), fc.oneof(expr(t, d), VALUES[t].map((v) => [new Param(v)] as Sql)))
        .map(([a, b]) => sql`${a} ${op} ${b}`)),
    expr('bool', 0),
    expr('bool', d).chain((a) => pick('IS TRUE', 'IS NOT TRUE', 'IS FALSE', 'IS NOT FALSE', 'IS UNKNOWN', 'IS NOT UNKNOWN').map((op) => sql`(${a}) ${op}`)),
    pick(['true'], ['false'], ['NULL::bool']),
  ]
  if (depth <= 0) return fc.oneof(...leaves)
  const sub = boolExpr(depth - 1)
  return fc.oneof(
    { arbitrary: fc.oneof(...leaves), weight: 3 },
    {
      arbitrary: fc.oneof(
        fc.tuple(sub, sub).map(([a, b]) => sql`(${a} AND ${b})`),
        fc.tuple(sub, sub).map(([a, b]) => sql`(${a} OR ${b})`),
        sub.map((a) => sql`NOT (${a})`),
      ),
      weight: 2,
    },
  )
}

// ---- Postgres side

let db: TestDatabase
let client: pg.Client
/**
 * The database's default collation, which the evaluator is told (as the engine does): on a database whose
 * collation orders text by the locale (DATABASE_URL pointing elsewhere), clauses that depend on it are
 * refused when compiling, which is an allowed outcome here (test/where/collation-differential.test.ts
 * asserts which ones).
 */
let defaultCollation: Collation
const options = () => ({ defaultCollation })
const collationRefusal = (error: unknown) => error instanceof WhereError && /cannot be evaluated outside Postgres/.test(error.message)
const raw = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig

beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`)
  client = new pg.Client({ connectionString: db.url, types: raw })
  await client.connect()
  // The display settings Electric's replication connection uses.
  await client.query(`SET DateStyle = 'ISO, DMY'; SET TimeZone = 'UTC'; SET extra_float_digits = 1; SET bytea_output = 'hex'; SET IntervalStyle = 'iso_8601'`)
  const r = await client.query(`SELECT ${DATABASE_COLLATION_SQL} AS d`)
  defaultCollation = databaseCollation(r.rows[0].d)
})
afterAll(async () => {
  await client?.end()
  await db?.drop()
})

/** The row typed by Postgres, as a derived table that the planner cannot fold into constants. */
function rowTable(row: Record<Ty, string | null>, first: number): { from: string; values: (string | null)[] } {
  const values = TYPES.map((t) => row[t])
  const cols = TYPES.map((t, i) => `$${first + i}::${sqlType(t)} AS "${column(t)}"`).join(', ')
  return { from: `(SELECT ${cols} OFFSET 0) AS t`, values }
}

async function rowText(row: Record<Ty, string | null>): Promise<Record<string, string | null> | undefined> {
  const { from, values } = rowTable(row, 1)
  try {
    const r = await client.query({ text: `SELECT * FROM ${from}`, values })
    return r.rows[0] as Record<string, string | null>
  } catch {
    return undefined // a generated value Postgres refuses as input (e.g. out of range)
  }
}

type Outcome = { verdict: boolean; row: Record<string, string | null> } | { error: string }

async function postgres(where: { text: string; params: string[] }, row: Record<Ty, string | null>): Promise<Outcome> {
  const { from, values } = rowTable(row, where.params.length + 1)
  try {
    const r = await client.query({ text: `SELECT (${where.text}) IS TRUE AS verdict__, * FROM ${from}`, values: [...where.params, ...values] })
    const { verdict__, ...rest } = r.rows[0] as Record<string, string | null>
    return { verdict: verdict__ === 't', row: rest }
  } catch (error) {
    return { error: (error as Error).message }
  }
}

/** `(<expr>)::text` in Postgres, or the error it raises. */
async function postgresText(e: { text: string; params: string[] }, row: Record<Ty, string | null>) {
  const { from, values } = rowTable(row, e.params.length + 1)
  try {
    const r = await client.query({ text: `SELECT (${e.text})::text AS value__, * FROM ${from}`, values: [...e.params, ...values] })
    const { value__, ...rest } = r.rows[0] as Record<string, string | null>
    return { value: value__ ?? null, row: rest }
  } catch (error) {
    return { error: (error as Error).message }
  }
}

describe('evaluator vs Postgres', () => {
  it(`agrees on ${NUM_RUNS} random (row, where clause) pairs`, async () => {
    const stats = { pairs: 0, matches: 0, pgErrors: 0, compileErrors: 0, collationRefusals: 0 }
    await fc.assert(
      fc.asyncProperty(rowArb, boolExpr(2), async (row, clause) => {
        const where = render(clause)
        const pgResult = await postgres(where, row)
        let compiled
        let compileError: unknown
        try {
          compiled = compileWhere(where.text, COLUMNS, where.params, options())
        } catch (error) {
          compileError = error
        }
        stats.pairs++
        if (collationRefusal(compileError)) {
          stats.collationRefusals++
          return
        }
        if ('error' in pgResult) {
          stats.pgErrors++
          // Postgres failed: the evaluator refuses the clause, or the row does not match.
          if (compileError) {
            stats.compileErrors++
            expect(compileError).toBeInstanceOf(WhereError)
            return
          }
          const text = await rowText(row)
          if (text) expect(compiled!.evaluate(text), `Postgres: ${pgResult.error}`).toBe(false)
          return
        }
        if (compileError) throw compileError
        const verdict = compiled!.evaluate(pgResult.row)
        if (pgResult.verdict) stats.matches++
        expect(verdict, JSON.stringify(pgResult.row)).toBe(pgResult.verdict)
      }),
      { numRuns: NUM_RUNS, seed: SEED },
    )
    console.log(`[where differential] ${stats.pairs} pairs: ${stats.matches} matched, ${stats.pgErrors} Postgres errors (${stats.compileErrors} refused at compile time), ${stats.collationRefusals} refused for the collation`)
  }, 600_000)

  // Values, not just verdicts: every expression's text form (numeric scales, float digits, dates, arrays)
  // equals Postgres's, checked through `(<expr>)::text IS NOT DISTINCT FROM $n`.
  it(`computes the same values for ${Math.ceil(NUM_RUNS / 2)} random expressions`, async () => {
    await fc.assert(
      fc.asyncProperty(rowArb, pick(...TYPES).chain((t) => expr(t, 2)), async (row, e) => {
        const rendered = render(e)
        const pgResult = await postgresText(rendered, row)
        if ('error' in pgResult) return
        const where = `((${rendered.text})::text) IS NOT DISTINCT FROM $${rendered.params.length + 1}`
        let check
        try {
          const compiled = compileWhere(where, COLUMNS, [...rendered.params, pgResult.value ?? ''], options())
          check = pgResult.value === null ? compileWhere(`(${rendered.text}) IS NULL`, COLUMNS, rendered.params, options()) : compiled
        } catch (error) {
          if (collationRefusal(error)) return
          throw error
        }
        expect(check.evaluate(pgResult.row), `Postgres: ${pgResult.value}`).toBe(true)
      }),
      { numRuns: Math.ceil(NUM_RUNS / 2), seed: SEED },
    )
  }, 600_000)
})
