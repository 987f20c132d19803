// The filter index returns exactly the shapes whose where clause is TRUE for a row, and routing one
// change costs about the same with 10 or 10,000 equality shapes.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { compileWhere, FilterIndex, type Collation, type ColumnType, type CompiledWhere, type Row } from '../../src/where/index.js'

const COLUMNS = new Map<string, ColumnType>([
  ['id', { type: 'uuid', dims: 0 }],
  ['owner_id', { type: 'text', dims: 0 }],
  ['n', { type: 'int4', dims: 0 }],
  ['big', { type: 'int8', dims: 0 }],
  ['dec', { type: 'numeric', dims: 0 }],
  ['done', { type: 'bool', dims: 0 }],
  ['status', { type: 'issue_status', dims: 0, isEnum: true }],
  ['title', { type: 'text', dims: 0 }],
  ['tags', { type: 'text', dims: 1 }],
])

const UUIDS = ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', 'c2eebc99-9c0b-4ef8-bb6d-6bb9bd380a13']
const OWNERS = ['u0', 'u1', 'u2', 'U1']
const pick = <T>(...xs: T[]) => fc.constantFrom(...xs)

/** Where clauses with equality conjuncts in various spellings, and some that cannot be indexed. */
const whereArb: fc.Arbitrary<{ sql: string; params: readonly string[] } | undefined> = fc.oneof(
  pick(...OWNERS).map((o) => ({ sql: '"owner_id" = $1', params: [o] })),
  fc.tuple(pick(...OWNERS), fc.integer({ min: 0, max: 9 })).map(([o, n]) => ({ sql: '"owner_id" = $1 AND "n" > $2', params: [o, String(n)] })),
  fc.tuple(pick('7', '007', '+7', '0x7', '8'), pick('', '::int4', '::int8', '::numeric')).map(([n, cast]) => ({ sql: `"n" = $1${cast}`, params: [n] })),
  pick('1', '1.0', '1.000', '2.5', '-0').map((d) => ({ sql: '"dec" = $1', params: [d] })),
  pick('true', 't', 'yes', 'off').map((b) => ({ sql: '$1::bool = "done"', params: [b] })),
  fc.tuple(pick(...UUIDS), fc.boolean()).map(([u, upper]) => ({ sql: '"id" = $1', params: [upper ? u.toUpperCase() : u] })),
  fc.subarray(UUIDS, { minLength: 1 }).map((us) => ({ sql: '"id" = ANY($1::uuid[])', params: [`{${us.join(',')}}`] })),
  fc.subarray(['open', 'in progress', 'done'], { minLength: 1 }).map((ss) => ({ sql: `"status" IN (${ss.map((_, i) => `$${i + 1}`).join(', ')})`, params: ss })),
  pick('9007199254740993', '9007199254740992').map((b) => ({ sql: '"big" = $1', params: [b] })),
  pick('u%', 'U%', '%1').map((p) => ({ sql: '"owner_id" LIKE $1', params: [p] })),
  pick('a', 'b').map((t) => ({ sql: '$1 = ANY("tags") OR "n" IS NULL', params: [t] })),
  fc.constant({ sql: '"owner_id" = NULL', params: [] }),
  fc.constant({ sql: '"n" IN (NULL, 7)', params: [] }),
  fc.constant(undefined),
)

const rowArb: fc.Arbitrary<Row> = fc.record({
  id: fc.option(pick(...UUIDS), { freq: 6 }),
  owner_id: fc.option(pick(...OWNERS), { freq: 6 }),
  n: fc.option(pick('7', '8', '0', '9'), { freq: 6 }),
  big: fc.option(pick('9007199254740993', '9007199254740992'), { freq: 6 }),
  dec: fc.option(pick('1.000000', '1', '2.5', '0', '-0.00'), { freq: 6 }),
  done: fc.option(pick('t', 'f'), { freq: 6 }),
  status: fc.option(pick('open', 'in progress', 'done'), { freq: 6 }),
  title: fc.option(pick('a', 'b'), { freq: 6 }),
  tags: fc.option(pick('{}', '{a}', '{a,b}', '{NULL}'), { freq: 6 }),
})

function bruteForce(shapes: readonly (CompiledWhere | undefined)[], row: Row): Set<number> {
  const ids = new Set<number>()
  shapes.forEach((where, id) => {
    if (!where || where.evaluate(row)) ids.add(id)
  })
  return ids
}

describe('FilterIndex', () => {
  it('matches exactly the shapes whose where clause is true', () => {
    fc.assert(
      fc.property(fc.array(whereArb, { maxLength: 60 }), fc.array(rowArb, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 20 }), (specs, rows, removals) => {
        const shapes = specs.map((s) => (s ? compileWhere(s.sql, COLUMNS, s.params) : undefined))
        const index = new FilterIndex<number>()
        shapes.forEach((where, id) => index.add(id, where))
        for (const r of removals) if (shapes.length) {
          const id = r % shapes.length
          index.remove(id)
          index.add(id, shapes[id]) // removal and re-adding leave the index as it was
        }
        for (const row of rows) expect(index.match(row)).toEqual(bruteForce(shapes, row))
        const removed = new Set(shapes.length ? removals.slice(0, 3).map((r) => r % shapes.length) : [])
        for (const id of removed) index.remove(id)
        for (const row of rows) {
          const expected = bruteForce(shapes, row)
          for (const id of removed) expected.delete(id)
          expect(index.match(row)).toEqual(expected)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('canonicalizes keys with Postgres equality', () => {
    const index = new FilterIndex<string>()
    index.add('int', compileWhere('"n" = $1', COLUMNS, ['007']))
    index.add('numeric', compileWhere('"dec" = $1', COLUMNS, ['1.0']))
    index.add('bool', compileWhere('"done" = $1', COLUMNS, ['true']))
    index.add('uuid', compileWhere('"id" = $1', COLUMNS, [UUIDS[0]!.toUpperCase()]))
    index.add('all', undefined)
    const row = { id: UUIDS[0]!, owner_id: 'u1', n: '7', big: '1', dec: '1.000000', done: 't', status: 'open', title: 'a', tags: '{}' }
    expect(index.match(row)).toEqual(new Set(['int', 'numeric', 'bool', 'uuid', 'all']))
    expect(index.match({ ...row, n: '8', dec: '1.0000001', done: 'f', id: UUIDS[1]! })).toEqual(new Set(['all']))
    expect(index.remove('int')).toBe(true)
    expect(index.remove('int')).toBe(false)
    expect(index.size).toBe(4)
  })

  it('evaluates only the shapes keyed by the row, choosing a selective conjunct', () => {
    let evaluations = 0
    const counted = (where: CompiledWhere): CompiledWhere => ({
      ...where,
      evaluate: (row) => {
        evaluations++
        return where.evaluate(row)
      },
    })
    const index = new FilterIndex<number>()
    for (let i = 0; i < 10_000; i++) {
      // the Prisma compiler's `{ completed: false, ownerId }`: the bool conjunct comes first but is not the key
      index.add(i, counted(compileWhere('"done" = $1 AND "owner_id" = $2', COLUMNS, [i % 2 ? 'true' : 'false', `user-${i % 5_000}`])))
    }
    index.add(10_000, counted(compileWhere('"title" LIKE $1', COLUMNS, ['a%'])))
    const row = { id: UUIDS[0]!, owner_id: 'user-42', n: '1', big: '1', dec: '1', done: 'f', status: 'open', title: 'b', tags: '{}' }
    expect(index.match(row)).toEqual(new Set([42, 5042]))
    expect(evaluations).toBe(2) // shapes 42 and 5042 (owner user-42); the LIKE shape is indexed under "a"
  })

  it('matches 10,000 equality shapes exactly, at a cost independent of their number', () => {
    const build = (count: number) => {
      const shapes: CompiledWhere[] = []
      for (let i = 0; i < count; i++) {
        // one shape per owner; a fifth of the shapes AND another condition to their equality
        const owner = `user-${i}`
        shapes.push(i % 5 === 0
          ? compileWhere('"owner_id" = $1 AND "n" > $2', COLUMNS, [owner, String(i % 10)])
          : compileWhere('"owner_id" = $1', COLUMNS, [owner]))
      }
      const index = new FilterIndex<number>()
      shapes.forEach((s, id) => index.add(id, s))
      return { shapes, index }
    }
    const row = (owner: number, i: number): Row =>
      ({ id: UUIDS[i % 3]!, owner_id: `user-${owner}`, n: String(i % 10), big: '1', dec: '1', done: 't', status: 'open', title: 'x', tags: '{}' })

    const large = build(10_000)
    for (let i = 0; i < 300; i++) {
      const r = row((i * 7919) % 10_100, i)
      expect(large.index.match(r)).toEqual(bruteForce(large.shapes, r))
    }

    // Not an assertion (tests never assert wall-clock time): the cost of routing one change, for rows
    // that match the same shapes (owners user-0..9) whether there are 10 or 10,000 shapes.
    const small = build(10)
    const rows = Array.from({ length: 2_000 }, (_, i) => row(i % 10, i))
    const cost = (index: FilterIndex<number>) => {
      const start = process.hrtime.bigint()
      for (let round = 0; round < 10; round++) for (const r of rows) index.match(r)
      return Number(process.hrtime.bigint() - start) / 1000 / (10 * rows.length)
    }
    let us10 = Infinity
    let us10k = Infinity
    for (let trial = 0; trial < 5; trial++) { // interleaved, best of 5: JIT warm-up and GC hit both alike
      us10 = Math.min(us10, cost(small.index))
      us10k = Math.min(us10k, cost(large.index))
    }
    console.log(`[filter index] routing one change: ${us10.toFixed(2)} µs with 10 equality shapes, ${us10k.toFixed(2)} µs with 10,000 (ratio ${(us10k / us10).toFixed(2)})`)
  })
})

describe('FilterIndex: LIKE and ILIKE', () => {
  const C: Collation = { name: 'C', provider: 'libc', collate: 'C', ctype: 'C', deterministic: true }
  const LIKE_COLUMNS = new Map<string, ColumnType>([
    ['title', { type: 'text', dims: 0 }],
    ['vc', { type: 'varchar', dims: 0 }],
    ['ascii', { type: 'text', dims: 0, collation: C }], // ILIKE under LC_CTYPE C: ASCII case mapping only
    ['pad', { type: 'bpchar', dims: 0 }],
    ['done', { type: 'bool', dims: 0 }],
    ['n', { type: 'int4', dims: 0 }],
  ])
  // Wildcards, escapes, case pairs (ASCII and not), characters whose lower case differs in length or
  // needs a surrogate pair, so every way a literal run can be cut, folded or anchored is tried.
  const PATTERN_CHARS = ['a', 'b', 'A', 'B', '%', '_', '\\', 'é', 'É', 'ß', 'İ', 'i', '😀', 'x']
  const TEXT_CHARS = ['a', 'b', 'A', 'B', 'é', 'É', 'ß', 'İ', 'i', 'I', '😀', '%', '_', '\\', 'x', ' ']
  const patternArb = fc.array(pick(...PATTERN_CHARS), { maxLength: 6 }).map((cs) => cs.join(''))
  // What Prisma's startsWith / contains / endsWith send: the escaped term inside % (prisma-where.ts).
  const prismaArb = fc.tuple(pick('startsWith', 'contains', 'endsWith'), fc.array(pick(...TEXT_CHARS), { maxLength: 4 }))
    .map(([op, cs]) => {
      const escaped = cs.join('').replace(/[\\%_]/g, '\\$&')
      return op === 'startsWith' ? `${escaped}%` : op === 'endsWith' ? `%${escaped}` : `%${escaped}%`
    })
  const textArb = fc.array(pick(...TEXT_CHARS), { maxLength: 8 }).map((cs) => cs.join(''))
  // A pattern with a text it matches (wildcards filled in, literals sometimes case-flipped for ILIKE), so
  // rows often match, or nearly: what a wrong anchoring or fold would get wrong.
  const tokenArb = fc.oneof(
    fc.tuple(pick(...TEXT_CHARS), fc.boolean(), fc.boolean()).map(([ch, escape, flip]) => ({
      pattern: /[\\%_]/.test(ch) || escape ? `\\${ch}` : ch,
      text: flip ? (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()) : ch,
    })),
    textArb.map((fill) => ({ pattern: '%', text: fill })),
    pick(...TEXT_CHARS).map((fill) => ({ pattern: '_', text: fill })),
  )
  const instanceArb = fc.array(tokenArb, { maxLength: 6 }).map((ts) => ({ pattern: ts.map((t) => t.pattern).join(''), text: ts.map((t) => t.text).join('') }))
  const likeWhereArb = fc.tuple(
    pick(
      '"title" LIKE $1', '"title" ILIKE $1', '"vc" LIKE $1', '"vc" ILIKE $1', '"ascii" ILIKE $1', '"ascii" LIKE $1',
      '"pad" LIKE $1', '"title" COLLATE "C" ILIKE $1', '$1 LIKE "title"', '"title" NOT LIKE $1',
      '"done" = true AND "title" ILIKE $1', '"title" LIKE $1 AND "n" > 3', '"title" LIKE $1 OR "n" > 3',
      '"title" LIKE $1 AND "vc" ILIKE $1', '"title" ~~ $1::varchar', 'NOT ("title" NOT ILIKE $1)',
    ),
    fc.oneof(patternArb, prismaArb, instanceArb.map((i) => i.pattern)),
  ).map(([sql, pattern]) => ({ sql, params: [pattern] }))
  // ORs of LIKEs (Prisma's `OR: [{ title: { contains } }, …]`): indexed under every pattern when they share
  // a column and case mapping.
  const anyPatternArb = fc.oneof(patternArb, prismaArb, instanceArb.map((i) => i.pattern))
  const likeOrArb = fc.tuple(
    pick(
      '"title" LIKE $1 OR "title" LIKE $2', '"title" ILIKE $1 OR "title" ILIKE $2 OR "title" ILIKE $1',
      '("title" LIKE $1 OR "title" LIKE $2) AND "n" > 3', '"title" LIKE $1 OR "vc" LIKE $2', '"title" LIKE $1 OR "title" ILIKE $2',
      '"title" LIKE $1 OR NULL OR "title" LIKE $2', '"ascii" ILIKE $1 OR ("ascii" ILIKE $2 OR "ascii" ILIKE $1)',
    ),
    anyPatternArb, anyPatternArb,
  ).map(([sql, a, b]) => ({ sql, params: [a, b] }))
  const likeRowArb: fc.Arbitrary<Row> = fc.record({
    title: fc.option(fc.oneof(textArb, instanceArb.map((i) => i.text)), { freq: 8 }),
    vc: fc.option(fc.oneof(textArb, instanceArb.map((i) => i.text)), { freq: 8 }),
    ascii: fc.option(fc.oneof(textArb, instanceArb.map((i) => i.text)), { freq: 8 }),
    pad: fc.option(textArb.map((t) => t.padEnd(4)), { freq: 8 }),
    done: fc.option(pick('t', 'f'), { freq: 8 }),
    n: fc.option(pick('1', '5'), { freq: 8 }),
  })
  const compile = (s: { sql: string; params: readonly string[] }) => {
    try {
      return compileWhere(s.sql, LIKE_COLUMNS, s.params)
    } catch {
      return undefined // a where the evaluator refuses is never a shape
    }
  }

  it('matches exactly the shapes whose where clause is true (differential, random patterns and rows)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(likeWhereArb, likeOrArb), { maxLength: 80 }), fc.array(likeRowArb, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 20 }), fc.array(fc.tuple(pick('"title" LIKE $1', '"title" ILIKE $1', '"vc" ILIKE $1', '"ascii" ILIKE $1', '"title" LIKE $2 OR "title" LIKE $1'), instanceArb, anyPatternArb), { maxLength: 20 }), (specs0, rows0, removals, instances) => {
        // Each instance: a shape of its pattern and a row of its text.
        const specs = [...specs0, ...instances.map(([sql, i, other]) => ({ sql, params: sql.includes('$2') ? [i.pattern, other] : [i.pattern] }))]
        const rows = [...rows0, ...instances.map(([, i]) => ({ title: i.text, vc: i.text, ascii: i.text, pad: null, done: null, n: null }))]
        const shapes = specs.map(compile).filter((w): w is CompiledWhere => w !== undefined)
        const index = new FilterIndex<number>()
        shapes.forEach((where, id) => index.add(id, where))
        for (const row of rows) expect(index.match(row)).toEqual(bruteForce(shapes, row))
        const removed = new Set(shapes.length ? removals.map((r) => r % shapes.length) : [])
        for (const id of removed) index.remove(id)
        for (const row of rows) {
          const expected = bruteForce(shapes, row)
          for (const id of removed) expected.delete(id)
          expect(index.match(row)).toEqual(expected)
        }
        for (const id of removed) index.add(id, shapes[id]) // re-added: as before the removals
        for (const row of rows) expect(index.match(row)).toEqual(bruteForce(shapes, row))
      }),
      { numRuns: 400 },
    )
  })

  it('stays exact across automaton rebuilds: thousands of contains terms added and removed between rows', () => {
    const terms = Array.from({ length: 3000 }, (_, i) => `t${(i * 7919) % 100_000}`)
    const shapes = terms.map((t) => compileWhere('"title" ILIKE $1', LIKE_COLUMNS, [`%${t}%`]))
    const index = new FilterIndex<number>()
    const live = new Set<number>()
    const rows = Array.from({ length: 50 }, (_, i) => ({ title: `x T${(i * 7919 * 13) % 100_000}y t${(i * 31) % 100_000} ${terms[i * 17]!}`, vc: null, ascii: null, pad: null, done: null, n: null }))
    for (let step = 0; step < shapes.length; step++) {
      index.add(step, shapes[step])
      live.add(step)
      if (step % 3 === 2) {
        const gone = (step * 37) % (step + 1)
        index.remove(gone)
        live.delete(gone)
      }
      if (step % 97 === 0 || step === shapes.length - 1) {
        for (const row of rows) {
          const expected = new Set([...live].filter((id) => shapes[id]!.evaluate(row)))
          expect(index.match(row)).toEqual(expected)
        }
      }
    }
  })

  it('evaluates only the contains shapes whose term the value holds: 10,000 shapes, one row', () => {
    let evaluations = 0
    const counted = (where: CompiledWhere): CompiledWhere => ({
      ...where,
      evaluate: (row) => {
        evaluations++
        return where.evaluate(row)
      },
    })
    const index = new FilterIndex<number>()
    for (let i = 0; i < 10_000; i++) {
      const term = `term-${i}`
      // Prisma's contains, startsWith and endsWith, case-sensitive and not
      const pattern = i % 3 === 0 ? `%${term}%` : i % 3 === 1 ? `${term}%` : `%${term}`
      index.add(i, counted(compileWhere(i % 2 ? '"title" ILIKE $1' : '"title" LIKE $1', LIKE_COLUMNS, [pattern])))
    }
    const row = { title: 'TERM-42 and term-43 and term-9999', vc: null, ascii: null, pad: null, done: null, n: null }
    // term-42 (contains, LIKE: case differs), term-43 (startsWith, ILIKE: not at the start), term-9999 (ILIKE,
    // contains); prefixes of those (term-4, term-99...) are other terms the automaton reports too.
    expect(index.match(row)).toEqual(bruteForce([...Array(10_000).keys()].map((i) => {
      const term = `term-${i}`
      const pattern = i % 3 === 0 ? `%${term}%` : i % 3 === 1 ? `${term}%` : `%${term}`
      return compileWhere(i % 2 ? '"title" ILIKE $1' : '"title" LIKE $1', LIKE_COLUMNS, [pattern])
    }), row))
    expect(evaluations).toBeLessThan(20)
  })
})

it('indexes an OR of contains terms under each term: a 256-term shape is evaluated only for rows holding one', () => {
  const columns = new Map<string, ColumnType>([['title', { type: 'text', dims: 0 }]])
  let evaluations = 0
  const index = new FilterIndex<number>()
  for (let s = 0; s < 40; s++) {
    const terms = Array.from({ length: 256 }, (_, k) => `%w${s}-${k}.%`)
    const where = compileWhere(terms.map((_, k) => `"title" LIKE $${k + 1}`).join(' OR '), columns, terms)
    index.add(s, { ...where, evaluate: (row) => { evaluations++; return where.evaluate(row) } })
  }
  expect(index.match({ title: 'nothing here' })).toEqual(new Set())
  expect(index.match({ title: 'has w7-200. and w7-3. and w39-0.' })).toEqual(new Set([7, 39]))
  expect(evaluations).toBe(2) // shape 7 once, though two of its terms occur
})
