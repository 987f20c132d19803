// Differential test of text semantics under collations: on an ICU en-US database, a libc en_US.UTF-8 one,
// an LC_CTYPE C one and the cluster's (C.UTF-8), over columns with their own COLLATE ("C", "POSIX",
// ICU en-US, a nondeterministic ICU collation, en_US.utf8) and explicit COLLATE clauses. Every clause the
// evaluator accepts must give Postgres's verdict on every row; the ones whose result depends on a
// collation it cannot reproduce must be refused when compiling (counted, and asserted for known cases).
// Column facts come from the engine's catalog reader (loadTable), as shapes get them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import pg from 'pg'
import { loadTable, type TableInfo } from '../../src/engine/catalog.js'
import { compileWhere, WhereError, type ColumnTypes } from '../../src/where/index.js'
import { lit, Param, render, sql, type Sql } from '../support/sql-fragments.js'
import { createLocaleDatabase, icuAvailable, localeUnavailable, type LocaleDatabase, type LocaleKind } from '../support/locale-db.js'

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 600)
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED)
const raw = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig

interface Column {
  name: string
  /** Type in CREATE TABLE and in the row's derived table. */
  type: string
  collate?: string
  needs?: 'icu' | 'en_US' | 'builtin'
}
const ALL_COLUMNS: Column[] = [
  { name: 't', type: 'text' },
  { name: 'v', type: 'varchar' },
  { name: 'b', type: 'char(3)' },
  { name: 'c', type: 'text', collate: '"C"' },
  { name: 'p', type: 'text', collate: '"POSIX"' },
  { name: 'u', type: 'text', collate: '"en-US-x-icu"', needs: 'icu' },
  { name: 'n', type: 'text', collate: 'ci', needs: 'icu' },
  { name: 'e', type: 'text', collate: '"en_US.utf8"', needs: 'en_US' },
  { name: 'cu', type: 'text', collate: 'pg_c_utf8', needs: 'builtin' },
  { name: 'a', type: 'text[]' },
  { name: 'ac', type: 'text[]', collate: '"C"' },
]
const COLLATE_NAMES = ['"C"', '"POSIX"', '"default"', '"ucs_basic"', '"en-US-x-icu"', 'ci', '"en_US.utf8"']

// ---- generators

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs)
const CHARS = ['a', 'b', 'A', 'B', 'e', 'é', 'É', 'E', 'ß', 's', 'S', 'İ', 'i', 'I', 'ı', 'Σ', 'σ', 'ς', 'Ꟑ', 'ꟑ', 'æ', ' ', '-', '_', '%', '😀', '1', 'ǅ', 'ﬀ']
const textValue = fc.oneof(
  fc.string({ unit: pick(...CHARS), maxLength: 4 }),
  pick('', 'a', 'A', 'b', 'B', 'ss', 'SS', 'résumé', 'resume', 'Resume', 'a-b', 'ab', 'a b'),
)
const quote = (v: string) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`
const arrayValue = fc.array(fc.option(textValue, { freq: 5 }), { maxLength: 3 })
  .map((xs) => `{${xs.map((x) => (x === null ? 'NULL' : quote(x))).join(',')}}`)

function generators(columns: readonly Column[], collations: readonly string[]) {
  const scalars = columns.filter((c) => !c.type.endsWith('[]')).map((c) => c.name)
  const arrays = columns.filter((c) => c.type.endsWith('[]')).map((c) => c.name)
  const text = (depth: number): fc.Arbitrary<Sql> => {
    const leaves: fc.Arbitrary<Sql>[] = [
      pick(...scalars).map((c) => [`"${c}"`]),
      pick(...scalars).map((c) => [`"${c}"`]),
      textValue.map((v) => [lit(v)]),
      textValue.map((v) => [new Param(v)]),
      textValue.map((v) => [new Param(v, 'text')]),
    ]
    if (depth <= 0) return fc.oneof(...leaves)
    const sub = text(depth - 1)
    const ops = [
      sub.map((a) => sql`lower(${a})`),
      sub.map((a) => sql`upper(${a})`),
      fc.tuple(sub, sub).map(([a, b]) => sql`(${a} || ${b})`),
      fc.tuple(sub, sub).map(([a, b]) => sql`coalesce(${a}, ${b})`),
      fc.tuple(sub, pick(...collations)).map(([a, c]) => sql`(${a} COLLATE ${[c]})`),
    ]
    return fc.oneof({ arbitrary: fc.oneof(...leaves), weight: 2 }, { arbitrary: fc.oneof(...ops), weight: 1 })
  }
  const array = (depth: number): fc.Arbitrary<Sql> => fc.oneof(
    pick(...arrays).map((c) => [`"${c}"`]),
    arrayValue.map((v) => [new Param(v, 'text[]')]),
    fc.array(text(depth), { minLength: 1, maxLength: 3 }).map((xs) => sql`ARRAY[${xs.flatMap((x, i) => (i ? [', ', ...x] : x))}]`),
    fc.tuple(pick(...arrays).map((c) => [`"${c}"`] as Sql), pick(...collations)).map(([a, c]) => sql`(${a} COLLATE ${[c]})`),
  )
  const pattern = fc.string({ unit: pick('a', 'A', 'é', 'É', 'ß', 'S', '%', '_', 'İ', 'i', 'σ', 'Σ'), maxLength: 4 })
  const bool = (depth: number): fc.Arbitrary<Sql> => {
    const d = 1
    const leaves: fc.Arbitrary<Sql>[] = [
      fc.tuple(text(d), pick('=', '<>', '<', '>', '<=', '>='), text(d)).map(([a, op, b]) => sql`${a} ${[op]} ${b}`),
      fc.tuple(text(d), pick('BETWEEN', 'NOT BETWEEN'), text(0), text(0)).map(([a, op, b, c]) => sql`${a} ${[op]} ${b} AND ${c}`),
      fc.tuple(text(d), fc.array(text(0), { minLength: 1, maxLength: 3 }), pick('IN', 'NOT IN'))
        .map(([a, xs, op]) => sql`${a} ${[op]} (${xs.flatMap((x, i) => (i ? [', ', ...x] : x))})`),
      fc.tuple(text(d), pick('LIKE', 'NOT LIKE', 'ILIKE', 'NOT ILIKE'), fc.oneof(pattern.map((p) => [lit(p)] as Sql), pattern.map((p) => [new Param(p)] as Sql)))
        .map(([a, op, p]) => sql`${a} ${[op]} ${p}`),
      fc.tuple(pick('greatest', 'least'), text(0), text(0), text(0)).map(([f, a, b, c]) => sql`${[f]}(${a}, ${b}) = ${c}`),
      fc.tuple(text(d), pick('= ANY', '<> ALL', '< ANY', '>= ALL'), array(0)).map(([a, op, arr]) => sql`${a} ${[op]}(${arr})`),
      fc.tuple(array(0), pick('@>', '<@', '&&', '=', '<'), array(0)).map(([a, op, b]) => sql`${a} ${[op]} ${b}`),
      fc.tuple(text(d), pick('IS DISTINCT FROM', 'IS NOT DISTINCT FROM'), text(d)).map(([a, op, b]) => sql`${a} ${[op]} ${b}`),
      fc.tuple(text(0), text(0)).map(([a, b]) => sql`nullif(${a}, ${b}) IS NULL`),
    ]
    if (depth <= 0) return fc.oneof(...leaves)
    const sub = bool(depth - 1)
    return fc.oneof(
      { arbitrary: fc.oneof(...leaves), weight: 3 },
      { arbitrary: fc.oneof(fc.tuple(sub, sub).map(([a, b]) => sql`(${a} AND ${b})`), fc.tuple(sub, sub).map(([a, b]) => sql`(${a} OR ${b})`), sub.map((a) => sql`NOT (${a})`)), weight: 1 },
    )
  }
  const row = fc.record(Object.fromEntries(columns.map((c) => [
    c.name, fc.option(c.type.endsWith('[]') ? arrayValue : c.type === 'char(3)' ? fc.string({ unit: pick('a', 'A', ' ', 'é'), maxLength: 3 }) : textValue, { freq: 6 }),
  ])) as Record<string, fc.Arbitrary<string | null>>)
  return { bool, row }
}

/** Refusals because of a collation (as opposed to other unsupported constructs). */
const COLLATION_REFUSAL = /cannot be evaluated outside Postgres|collation mismatch|collation ".*" is not supported here/

// ---- one database of each kind

const KINDS: LocaleKind[] = ['icu', 'en_US', 'c-ctype', 'cluster']

/** What must happen to these clauses on each kind of database (t: default collation, c: "C", n: ci). */
const EXPECTED: Record<LocaleKind, Record<string, 'accepted' | 'refused'>> = {
  icu: {
    't < $1': 'refused', 't = $1': 'accepted', 't LIKE $1': 'accepted', 'lower(t) = $1': 'refused', 't ILIKE $1': 'refused',
    't COLLATE "C" < $1': 'accepted', 'lower(t COLLATE "C") = $1': 'accepted', 'c < $1': 'accepted', 'c < t': 'accepted',
    'greatest(t, $1) = $1': 'refused', '$1 < ANY(a)': 'refused', "a > '{x}'": 'refused', "a @> '{x}'": 'accepted',
  },
  en_US: {
    't < $1': 'refused', 't BETWEEN $1 AND $2': 'refused', 't = $1': 'accepted', 'lower(t) = $1': 'accepted', 't ILIKE $1': 'accepted',
    'upper(t) = $1': 'accepted', 't COLLATE "C" < $1': 'accepted', 'e < $1': 'refused', 'e = $1': 'accepted', "a > '{x}'": 'refused',
  },
  'c-ctype': { "a > '{x}'": 'accepted', 't < $1': 'accepted', 'lower(t) = $1': 'accepted', 't ILIKE $1': 'accepted', 'upper(t) = $1': 'accepted' },
  cluster: { 't < $1': 'accepted', 'lower(t) = $1': 'accepted', 't ILIKE $1': 'accepted' },
}
/** The same on every database: column collations. */
const EXPECTED_COLUMNS: Record<string, 'accepted' | 'refused'> = {
  'u < $1': 'refused', 'u = $1': 'accepted', 'lower(u) = $1': 'refused', 'n = $1': 'refused', 'n LIKE $1': 'refused',
  'n COLLATE "C" = $1': 'accepted', 'n < $1': 'refused', 'c < n': 'refused', 'c < p': 'refused', 'c < p COLLATE "C"': 'accepted',
  'cu < $1': 'accepted', 'cu = $1': 'accepted', 'lower(cu) = $1': 'refused', 'p < $1': 'accepted', 'lower(c) = $1': 'accepted', 'c ILIKE $1': 'accepted', "ac > '{x}'": 'accepted', 'a COLLATE "C" > \'{x}\'': 'accepted',
}

for (const kind of KINDS) {
  describe(`where clauses under collations, ${kind} database`, () => {
    let unavailable: string | undefined
    let db: LocaleDatabase
    let client: pg.Client
    let columns: Column[] = []
    let types: ColumnTypes
    let table: TableInfo
    const compile = (where: string, params: string[]) => compileWhere(where, types, params, { defaultCollation: table.defaultCollation })

    beforeAll(async () => {
      unavailable = await localeUnavailable(kind)
      if (unavailable) return
      db = await createLocaleDatabase(kind)
      const icu = await icuAvailable()
      const enUS = (await db.sql(`SELECT 1 FROM pg_collation WHERE collname = 'en_US.utf8'`)).length > 0
      const builtin = (await db.sql(`SELECT 1 FROM pg_collation WHERE collname = 'pg_c_utf8'`)).length > 0 // Postgres 17+
      columns = ALL_COLUMNS.filter((c) => (c.needs === 'icu' ? icu : c.needs === 'en_US' ? enUS : c.needs === 'builtin' ? builtin : true))
      if (icu) await db.sql(`CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`)
      await db.sql(`CREATE TABLE coll (id int PRIMARY KEY, ${columns.map((c) => `"${c.name}" ${c.type}${c.collate ? ` COLLATE ${c.collate}` : ''}`).join(', ')})`)
      table = await loadTable(db.pool, 'public', 'coll')
      types = new Map(table.columns.map((c) => [c.name, { type: c.type, dims: c.dims, isEnum: c.isEnum, enumLabels: c.enumLabels, collation: c.collation }]))
      client = new pg.Client({ connectionString: db.url, types: raw })
      await client.connect()
    })
    afterAll(async () => {
      await client?.end()
      await db?.drop()
    })

    it('reads the database and column collations from the catalog', (ctx) => {
      if (unavailable) ctx.skip(unavailable)
      const d = table.defaultCollation
      const expected = {
        icu: { provider: 'icu', collate: 'en-US' }, en_US: { provider: 'libc', collate: 'en_US.UTF-8', ctype: 'en_US.UTF-8' },
        'c-ctype': { provider: 'libc', collate: 'C', ctype: 'C' }, cluster: {},
      }[kind]
      expect(d).toMatchObject({ name: 'default', deterministic: true, ...expected })
      const byName = table.byName
      expect(byName.get('t')!.collation).toEqual(d)
      expect(byName.get('c')!.collation).toMatchObject({ name: 'C', provider: 'libc', collate: 'C', ctype: 'C' })
      expect(byName.get('ac')!.collation).toMatchObject({ name: 'C' })
      expect(byName.get('id')!.collation).toBeUndefined()
      if (byName.has('u')) expect(byName.get('u')!.collation).toMatchObject({ name: 'en-US-x-icu', provider: 'icu', collate: 'en-US', deterministic: true })
      if (byName.has('cu')) expect(byName.get('cu')!.collation).toMatchObject({ name: 'pg_c_utf8', provider: 'builtin', collate: 'C.UTF-8' })
      if (byName.has('n')) expect(byName.get('n')!.collation).toMatchObject({ name: 'ci', provider: 'icu', collate: 'und-u-ks-level2', deterministic: false })
    })

    it('accepts exactly the clauses it can evaluate as Postgres does, and refuses the others when compiling', (ctx) => {
      if (unavailable) ctx.skip(unavailable)
      // Column clauses whose columns this server has (no ICU: no u, n).
      const identifiers = (w: string) => [...w.replace(/'[^']*'/g, '').matchAll(/(?<![$"\w])([a-z]{1,2})(?![\w(])/g)].map((m) => m[1]!)
      const columnCases = Object.entries(EXPECTED_COLUMNS).filter(([w]) => identifiers(w).every((c) => table.byName.has(c)))
      const cases = { ...EXPECTED[kind], ...Object.fromEntries(columnCases) }
      const outcome = (where: string) => {
        try {
          compile(where, ['x', 'y'].slice(0, Math.max(0, ...[...where.matchAll(/\$(\d)/g)].map((m) => Number(m[1])))))
          return 'accepted'
        } catch (error) {
          expect(error).toBeInstanceOf(WhereError)
          expect((error as Error).message).toMatch(COLLATION_REFUSAL)
          return 'refused'
        }
      }
      expect(Object.fromEntries(Object.keys(cases).map((w) => [w, outcome(w)]))).toEqual(cases)
      // The refusal names the column, its collation and the fix.
      if (cases['t < $1'] === 'refused') {
        expect(() => compile('t < $1', ['x'])).toThrow(/"t" has the database's default collation \((ICU locale en-US|libc, LC_COLLATE en_US\.UTF-8)\).*COLLATE "C"/)
      }
    })

    it(`agrees with Postgres on ${NUM_RUNS} random (row, where clause) pairs`, async (ctx) => {
      if (unavailable) ctx.skip(unavailable)
      const usable = COLLATE_NAMES.filter((n) => (n === 'ci' || n === '"en-US-x-icu"' ? table.byName.has('n') : n === '"en_US.utf8"' ? table.byName.has('e') : true))
      const { bool, row } = generators(columns, usable)
      const stats = { pairs: 0, accepted: 0, matched: 0, refusedCollation: 0, refusedOther: 0, pgErrors: 0 }
      await fc.assert(
        fc.asyncProperty(row, bool(1), async (values, clause) => {
          const where = render(clause)
          const first = where.params.length + 1
          const select = columns.map((c, i) => `$${first + i}::${c.type}${c.collate ? ` COLLATE ${c.collate}` : ''} AS "${c.name}"`).join(', ')
          let pgResult: { verdict: boolean; row: Record<string, string | null> } | { error: string }
          try {
            const r = await client.query({
              text: `SELECT (${where.text}) IS TRUE AS verdict__, * FROM (SELECT ${select} OFFSET 0) AS coll`,
              values: [...where.params, ...columns.map((c) => values[c.name])],
            })
            const { verdict__, ...rest } = r.rows[0] as Record<string, string | null>
            pgResult = { verdict: verdict__ === 't', row: rest }
          } catch (error) {
            pgResult = { error: (error as Error).message }
          }
          stats.pairs++
          let compiled
          try {
            compiled = compile(where.text, where.params)
          } catch (error) {
            expect(error).toBeInstanceOf(WhereError)
            if (COLLATION_REFUSAL.test((error as Error).message)) stats.refusedCollation++
            else stats.refusedOther++
            return
          }
          stats.accepted++
          if ('error' in pgResult) {
            stats.pgErrors++
            // An accepted clause must never be one Postgres rejects for its collations.
            expect(pgResult.error, where.text).not.toMatch(/collation|nondeterministic/i)
            return
          }
          if (pgResult.verdict) stats.matched++
          expect(compiled.evaluate(pgResult.row), `${where.text} ${JSON.stringify(where.params)} on ${JSON.stringify(pgResult.row)}`).toBe(pgResult.verdict)
        }),
        { numRuns: NUM_RUNS, seed: SEED },
      )
      console.log(`[collation differential, ${kind}] ${stats.pairs} pairs: ${stats.accepted} accepted (${stats.matched} matched, ${stats.pgErrors} Postgres errors), ` +
        `${stats.refusedCollation} refused for a collation, ${stats.refusedOther} refused otherwise`)
      expect(stats.accepted).toBeGreaterThan(NUM_RUNS / 5)
      expect(stats.refusedCollation).toBeGreaterThan(0)
    }, 600_000)
  })
}
