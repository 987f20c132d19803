// The where-clause evaluator, construct by construct. Every expected verdict is also checked against
// Postgres, on the same row read back in its text form (as pgoutput delivers it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { compileWhere, WhereError, type ColumnType, type Row } from '../../src/where/index.js'

const COLUMNS = new Map<string, ColumnType>([
  ['id', { type: 'uuid', dims: 0 }],
  ['title', { type: 'text', dims: 0 }],
  ['description', { type: 'text', dims: 0 }],
  ['is_completed', { type: 'bool', dims: 0 }],
  ['n', { type: 'int4', dims: 0 }],
  ['small', { type: 'int2', dims: 0 }],
  ['big', { type: 'int8', dims: 0 }],
  ['dec', { type: 'numeric', dims: 0 }],
  ['f', { type: 'float8', dims: 0 }],
  ['r', { type: 'float4', dims: 0 }],
  ['date', { type: 'timestamptz', dims: 0 }],
  ['created_at', { type: 'timestamp', dims: 0 }],
  ['day', { type: 'date', dims: 0 }],
  ['at', { type: 'time', dims: 0 }],
  ['status', { type: 'issue_status', dims: 0, isEnum: true }],
  ['strs', { type: 'text', dims: 1 }],
  ['ints', { type: 'int4', dims: 1 }],
  ['bytes', { type: 'bytea', dims: 0 }],
  ['code', { type: 'bpchar', dims: 0 }],
  ['v', { type: 'varchar', dims: 0 }],
  ['json', { type: 'jsonb', dims: 0 }],
])

const TABLE = `CREATE TABLE items (
  id uuid PRIMARY KEY, title text, description text, is_completed bool, n int4, small int2, big int8,
  dec numeric(20,6), f float8, r real, date timestamptz(3), created_at timestamp(3), day date, at time,
  status issue_status, strs text[], ints int4[], bytes bytea, code char(3), v varchar(20), json jsonb)`

const ID = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'
const NULL_ID = 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'

/** The row as Postgres sends it (checked below). */
const ROW: Row = {
  id: ID, title: 'Hello World', description: null, is_completed: 'f', n: '7', small: '-3', big: '9007199254740993',
  dec: '1.500000', f: '0.1', r: '2.5', date: '2024-01-02 03:04:05.123+00', created_at: '2024-01-02 03:04:05',
  day: '2024-02-29', at: '12:30:00', status: 'in progress', strs: '{a,b,"c d",NULL}', ints: '{1,2,3}',
  bytes: '\\x0102ff', code: 'ab ', v: '100%_off\\', json: '{"a": 1}',
}
const NULL_ROW: Row = Object.fromEntries(Object.keys(ROW).map((k) => [k, k === 'id' ? NULL_ID : null]))

let db: TestDatabase
let client: pg.Client
const raw = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig

beforeAll(async () => {
  db = await createTestDatabase()
  client = new pg.Client({ connectionString: db.url, types: raw })
  await client.connect()
  await client.query(`SET DateStyle = 'ISO, DMY'; SET TimeZone = 'UTC'; SET extra_float_digits = 1; SET bytea_output = 'hex'`)
  await client.query(TABLE)
  const columns = Object.keys(ROW)
  for (const row of [ROW, NULL_ROW]) {
    await client.query(`INSERT INTO items (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
      columns.map((c) => row[c]))
  }
})
afterAll(async () => {
  await client?.end()
  await db?.drop()
})

/** Postgres's verdict on the row with this id. */
async function postgres(where: string, params: readonly string[], id: string): Promise<boolean> {
  const r = await client.query({ text: `SELECT (${where}) IS TRUE AS v FROM items WHERE id = '${id}'`, values: [...params] })
  return r.rows[0].v === 't'
}

type Case = [where: string, params: string[], expected: boolean]

async function check(cases: Case[], row: Row) {
  for (const [where, params, expected] of cases) {
    const compiled = compileWhere(where, COLUMNS, params)
    expect(compiled.evaluate(row), where).toBe(expected)
    expect(await postgres(where, params, String(row.id)), `Postgres: ${where}`).toBe(expected)
  }
}

describe('where evaluation', () => {
  it('sees rows in the text form Postgres sends', async () => {
    const r = await client.query(`SELECT * FROM items ORDER BY id`)
    expect(r.rows[0]).toEqual(ROW)
    expect(r.rows[1]).toEqual(NULL_ROW)
  })

  it('evaluates every clause form the Prisma shape compiler emits', async () => {
    await check([
      ['"is_completed" = $1::bool', ['false'], true],
      ['"is_completed" = $1', ['true'], false],
      ['"title" ILIKE $1', ['%WORLD'], true],
      ['"title" LIKE $1', ['%WORLD'], false],
      ['"title" NOT ILIKE $1', ['hello%'], false],
      ['lower("title") = lower($1)', ['hello world'], true],
      ['lower("title") IN (lower($1), lower($2))', ['x', 'HELLO WORLD'], true],
      ['"id" = ANY($1::uuid[])', [`{"${ID.toUpperCase()}"}`], true],
      ['"id" <> ALL($1::uuid[])', [`{${ID}}`], false],
      ['"n" = ANY($1::int4[])', ['{"3","7"}'], true],
      ['NOT ("n" IN ($1, $2))', ['1', '2'], true],
      ['("description" IS NULL OR "description" <> $1)', ['x'], true],
      ['"strs" @> $1::text[]', ['{"c d"}'], true],
      ['"strs" @> $1::text[]', ['{NULL}'], false],
      ['"strs" && $1::text[]', ['{x,b}'], true],
      ['"strs" = \'{}\'', [], false],
      ['"strs" <> \'{}\'', [], true],
      ['"strs" = $1::text[]', ['{a,b,"c d",NULL}'], true],
      ['$1 = ANY("strs")', ['c d'], true],
      ['"date" < $1::timestamptz', ['2024-01-02T03:04:05.124Z'], true],
      ['"date" >= $1::timestamptz', ['2024-01-02 04:04:05.123+01'], true],
      ['"dec" >= $1::numeric', ['1.5'], true],
      ['"dec" = $1::numeric', ['1.50'], true],
      ['"big" = $1::int8', ['9007199254740993'], true],
      ['"big" = $1::int8', ['9007199254740992'], false],
      ['"bytes" = $1::bytea', ['\\x0102FF'], true],
      ['"status" = $1::"issue_status"', ['in progress'], true],
      ['"status" <> ALL($1::"issue_status"[])', ['{open,done}'], true],
      ['coalesce("description", $1) = $2', ['none', 'none'], true],
      ['"n" <= $1 AND "n" >= $2', ['7', '5'], true],
      ['"created_at" > $1', ['2024-01-02 03:04:04.999'], true],
      ['"v" LIKE $1', ['100\\%\\_off\\\\'], true],
    ], ROW)
  })

  it('compares each type with Postgres semantics', async () => {
    await check([
      // integers, across widths, and numeric exactly
      ['small < n', [], true], ['small = -3', [], true], ['big > 9007199254740992', [], true],
      ['big = 9007199254740993.0', [], true], ['n = 7.0', [], true], ['n < 7.000001', [], true],
      ['dec = 1.5', [], true], ['dec = 1.5000000000000000000001', [], false], ['dec * 3 = 4.5', [], true],
      ['dec / 3 = 0.5', [], true], ['n / 2 = 3', [], true], ['-n / 2 = -3', [], true], ['n % -4 = 3', [], true],
      ['-7 % 4 = -3', [], true], ['n::numeric / 2 = 3.5', [], true],
      // floats: 0.1 stays binary; NaN is equal to itself and above everything
      ['f = 0.1', [], true], ['f::numeric = 0.1', [], true], ['f * 3 = 0.3', [], false],
      ["'NaN'::float8 > 'Infinity'::float8", [], true], ["'NaN'::float8 = 'NaN'", [], true], ['r = 2.5', [], true],
      ["'-0'::float8 = 0", [], true], ['f < 1e308', [], true],
      // text: code point order, bpchar ignores trailing spaces, LIKE/ILIKE with escapes
      ["title < 'Hello world'", [], true], ["'é' > 'z'", [], true], ["'\uE000' < '😀'", [], true],
      ["code = 'ab'", [], true], ["code = 'ab   '", [], true], ["code::text = 'ab'", [], true], ["code LIKE 'ab'", [], false],
      ["title LIKE 'Hello_World'", [], true], ["title LIKE 'hello%'", [], false], ["title ILIKE 'HELLO%'", [], true],
      ["title NOT LIKE '%o W%'", [], false], ["v LIKE '100!%!_off\\' ESCAPE '!'", [], true], ["'a_c' LIKE 'a\\_c'", [], true],
      ["'ß' ILIKE 'SS'", [], false], ["upper('ß') = 'ß'", [], true], ["lower('İ') = 'i'", [], true],
      ["title || '!' = 'Hello World!'", [], true], ["title || n = 'Hello World7'", [], true],
      ["'x' || is_completed = 'xfalse'", [], true], ["concat(title, n, is_completed, NULL) = 'Hello World7f'", [], true],
      // bool, uuid, bytea
      ['NOT is_completed', [], true], ['is_completed IS FALSE', [], true], ['is_completed = \'no\'', [], true],
      [`id = '{${ID.replaceAll('-', '')}}'`, [], true], ["bytes > '\\x0102'", [], true], ["bytes < '\\x02'", [], true],
      // dates and times
      ["day = '2024-02-29'", [], true], ["day + 1 = '2024-03-01'", [], true], ["day - '2024-01-01'::date = 59", [], true],
      ["day < created_at", [], false], ["created_at::date = day - 58", [], true], ["date > created_at", [], true],
      ["at BETWEEN '12:00' AND '13:00'", [], true], ["date::time = '03:04:05.123'", [], true],
      ["created_at < 'infinity'", [], true], ["day > '-infinity'::date", [], true],
      // enums (labels unknown: equality only)
      ["status = 'in progress'", [], true], ["status IN ('open', 'done')", [], false], ["status::text LIKE 'in%'", [], true],
      // arrays
      ['ints = ARRAY[1,2,3]', [], true], ["ints = '{1,2,3}'", [], true], ['ints @> ARRAY[3,1]', [], true],
      ['ints <@ ARRAY[1,2,3,4]', [], true], ['ints && ARRAY[5]', [], false], ['2 = ANY(ints)', [], true],
      ['4 > ALL(ints)', [], true], ["ints || 4 = '{1,2,3,4}'", [], true], ["0 || ints = '{0,1,2,3}'", [], true],
      ["ints || '{4,5}' = '{1,2,3,4,5}'", [], true], ["ints < '{1,2,4}'", [], true], ["ints > '{1,2}'", [], true],
      ["'c d' = ANY(strs)", [], true], ["NULL = ANY(strs)", [], false], ["'z' <> ALL(strs)", [], false],
      ["'{{1,2},{3,4}}'::int4[] @> '{4}'", [], true], ["'{{1,2},{3,4}}'::int4[] = '{1,2,3,4}'", [], false],
      ["'[0:2]={1,2,3}'::int4[] = ints", [], false], ["'{{1,2},{3,4}}'::int4[] > ints", [], true],
      ["(ints || '{{4,5,6},{7,8,9}}'::int4[])::text = '{{1,2,3},{4,5,6},{7,8,9}}'", [], true], ["(ARRAY[1] || '{{4},{6}}'::int4[])::text = '{{1},{4},{6}}'", [], true],
      ['ints::text[] = \'{1,2,3}\'', [], true], ["strs::text = '{a,b,\"c d\",NULL}'", [], true],
      // casts
      ["n::text = '7'", [], true], ["'0042'::int4 = 42", [], true], ['2.5::int4 = 3', [], true], ['2.5::float8::int4 = 2', [], true],
      ['CAST(n AS int8) = 7', [], true], ['n::bool', [], true], ['is_completed::int4 = 0', [], true],
      ["dec::text = '1.500000'", [], true], ["f::text = '0.1'", [], true], ["date::text = '2024-01-02 03:04:05.123+00'", [], true],
    ], ROW)
  })

  it('uses three-valued logic: a row matches only when the clause is TRUE', async () => {
    await check([
      ['n = 1', [], false], ['NOT (n = 1)', [], false], ['n <> 1', [], false], ['n IS NULL', [], true],
      ['n IS NOT NULL', [], false], ['n IS DISTINCT FROM 1', [], true], ['n IS NOT DISTINCT FROM NULL', [], true],
      ['(n = 1) IS UNKNOWN', [], true], ['(n = 1) IS NOT TRUE', [], true], ['(n = 1) IS NOT FALSE', [], true],
      ['n = 1 OR true', [], true], ['n = 1 AND false', [], false], ['NOT (n = 1 AND false)', [], true],
      ['n IN (1, 2)', [], false], ['n NOT IN (1, 2)', [], false], ['1 IN (1, n)', [], true], ['1 NOT IN (2, n)', [], false],
      ['coalesce(n, 0) = 0', [], true], ['nullif(0, 0) IS NULL', [], true], ['n BETWEEN 1 AND 10', [], false],
      ['title LIKE \'%\'', [], false], ['strs @> \'{}\'', [], false], ['1 = ANY(ints)', [], false],
      ["1 = ANY('{}'::int4[])", [], false], ["NULL::int4 = ANY('{}'::int4[])", [], false], ["1 <> ALL('{}'::int4[])", [], true],
      ['1 = ANY(ARRAY[2, NULL])', [], false], ['(1 = ANY(ARRAY[2, NULL])) IS NULL', [], true],
      ['greatest(n, 3) = 3', [], true], ['concat(title, n) = \'\'', [], true],
    ], NULL_ROW)
  })

  it('supports IN, BETWEEN [SYMMETRIC] and their negations', async () => {
    await check([
      ['n IN (1, 7)', [], true], ['n IN (1.5, 7)', [], true], ['n NOT IN (1, 2, 3)', [], true], ['n IN ($1, $2)', ['7', '8'], true],
      ['n BETWEEN 1 AND 7', [], true], ['n BETWEEN 10 AND 1', [], false], ['n BETWEEN SYMMETRIC 10 AND 1', [], true],
      ['n NOT BETWEEN 8 AND 9', [], true], ['n NOT BETWEEN SYMMETRIC 9 AND 7', [], false],
      ["title IN ('a', title)", [], true], ["day BETWEEN '2024-01-01' AND '2024-12-31'", [], true],
    ], ROW)
  })

  it('treats runtime errors as no match and never throws', async () => {
    const cases: [string, Row][] = [
      ['n / (n - 7) = 1', ROW], ['n * 1000000000 > 0', ROW], ['big * big > 0', ROW], ["title::int4 = 1", ROW],
      ['f / 0 = 1', ROW], ['-(small - 32765) > 0 AND (small - 32766)::int2 < 0', ROW],
    ]
    for (const [where, row] of cases) {
      expect(compileWhere(where, COLUMNS).evaluate(row), where).toBe(false)
      await expect(postgres(where, [], String(row.id)), where).rejects.toThrow()
    }
    // values Postgres would never send are no match as well
    const compiled = compileWhere('n > 1', COLUMNS)
    expect(compiled.evaluate({ ...ROW, n: 'seven' })).toBe(false)
    expect(compiled.evaluate({ ...ROW, n: '7' })).toBe(true)
    expect(compileWhere('is_completed', COLUMNS).evaluate({ ...ROW, is_completed: 'true' })).toBe(true)
    expect(compileWhere('ints @> ARRAY[1]', COLUMNS).evaluate({ ...ROW, ints: '{1,' })).toBe(false)
  })

  it('orders enums when their labels are given', () => {
    const columns = new Map(COLUMNS).set('status', { type: 'issue_status', dims: 0, isEnum: true, enumLabels: ['open', 'in progress', 'done'] })
    expect(compileWhere("status > 'open'", columns).evaluate(ROW)).toBe(true)
    expect(compileWhere("status < 'in progress'", columns).evaluate(ROW)).toBe(false)
    expect(() => compileWhere("status = 'closed'", columns)).toThrow('invalid input value for enum issue_status: "closed"')
  })
})

describe('where compilation', () => {
  it('reports syntax errors the way Electric does', () => {
    const error = catchError(() => compileWhere('1 x 1', COLUMNS))
    expect(error).toBeInstanceOf(WhereError)
    expect(error.message).toBe('At location 17: syntax error at or near "x"')
    expect(error.location).toBe(17)
    expect(error.reason).toBe('syntax error at or near "x"')
    expect(error.toJSON()).toEqual({ location: 17, message: 'syntax error at or near "x"' })
    expect(() => compileWhere('title = ', COLUMNS)).toThrow('At location 23: syntax error at end of input')
    expect(() => compileWhere("title = 'a", COLUMNS)).toThrow(/unterminated quoted string/)
    expect(() => compileWhere('true; DROP TABLE items', COLUMNS)).toThrow(/statement split/)
    expect(() => compileWhere('true ORDER BY 1', COLUMNS)).toThrow(/malformed query/)
  })

  it('rejects what it cannot evaluate, naming the construct', () => {
    const rejected: [string, string | RegExp][] = [
      ['date > now()', 'now() is not allowed: not deterministic'],
      ['random() < 0.5', 'random() is not allowed: not deterministic'],
      ["date > CURRENT_TIMESTAMP", 'CURRENT_TIMESTAMP is not allowed: not deterministic'],
      ['title = current_user', 'CURRENT_USER is not allowed: not deterministic'],
      ["n = nextval('s')", 'nextval() is not allowed: not deterministic'],
      ["date > 'now'::timestamptz", "'now' is not allowed: not deterministic"],
      ['foo = 1', 'unknown column "foo"'],
      ['items.n = 1', 'qualified column references are not supported: items.n'],
      ['md5(title) = $1', 'function md5 is not supported'],
      ["title ~ 'a'", 'operator ~ is not supported'],
      ["json ->> 'a' = 'x'", 'operator ->> is not supported'],
      ["json @> '{}'", /operator @> is not supported for type jsonb|operator does not exist: jsonb @> unknown/],
      ['n IN (SELECT 1)', 'subqueries are not supported'],
      ['EXISTS (SELECT 1)', 'subqueries are not supported'],
      ['count(*) > 1', 'aggregate functions are not allowed: count()'],
      ['max(n) > 1', 'aggregate functions are not allowed: max()'],
      ['row_number() OVER () = 1', 'window functions are not allowed: row_number()'],
      ["CASE WHEN n > 1 THEN true END", 'CASE expressions are not supported'],
      ["title SIMILAR TO 'a'", 'SIMILAR TO is not supported'],
      ['ints[1] = 1', 'array subscripts are not supported'],
      ['n::numeric(10,2) = 1', /type modifiers are not supported/],
      ['n::money = 1', 'type "money" is not supported'],
      ["title = 1", 'operator does not exist: text = integer'],
      ["n = 'seven'", 'invalid input syntax for type integer: "seven"'],
      ['n = $1', 'invalid input syntax for type integer: "x"'],
      ['n + 1', 'argument of WHERE must be type boolean, not type integer'],
      ['n AND true', 'argument of AND must be type boolean, not type integer'],
      ["status < 'open'", /operator < is not supported for enum type issue_status without its labels/],
      ['1 / 0 = n', 'division by zero'],
      ['n = $2', 'parameter $2 has no value'],
      ["strs @> ARRAY[1]", 'operator does not exist: text[] @> integer[]'],
    ]
    for (const [where, message] of rejected) {
      const error = catchError(() => compileWhere(where, COLUMNS, where.includes('$1') ? ['x'] : []))
      expect(error, where).toBeInstanceOf(WhereError)
      expect(error.reason, where).toMatch(message)
    }
    expect(() => compileWhere('n = 1', COLUMNS, ['7'])).toThrow('parameter value for $1 was not used')
  })

  it('gives errors a location inside the where clause', () => {
    expect(catchError(() => compileWhere('n = 1 AND foo = 2', COLUMNS)).message).toBe('At location 10: unknown column "foo"')
  })

  it('lists the referenced columns and the conditions the filter index can use', () => {
    const compiled = compileWhere('"n" = $1 AND lower(title) LIKE $2 AND "status" IN ($3, $4)', COLUMNS, ['7', 'a%', 'open', 'done'])
    expect([...compiled.referencedColumns].sort()).toEqual(['n', 'status', 'title'])
    expect(compiled.equalityConditions.map((c) => [c.column, [...c.keys]])).toEqual([['n', ['7']], ['status', ['open', 'done']]])
    expect(compileWhere('n = 1 OR n = 2', COLUMNS).equalityConditions).toEqual([])
    expect(compileWhere('NOT (n = 1)', COLUMNS).equalityConditions).toEqual([])
    const uuid = compileWhere('id = ANY($1::uuid[])', COLUMNS, [`{${ID.toUpperCase()}}`]).equalityConditions[0]!
    expect(uuid.keys).toEqual([ID])
    expect(uuid.keyOf(ID.toUpperCase())).toBe(ID)
    const dec = compileWhere('dec = 1.5', COLUMNS).equalityConditions[0]!
    expect(dec.keyOf('1.500000')).toBe(dec.keys[0])
    const int = compileWhere('n = 7.0', COLUMNS).equalityConditions[0]! // compared as numeric
    expect(int.keyOf('7')).toBe(int.keys[0])
  })
})

function catchError(fn: () => unknown): WhereError {
  try {
    fn()
  } catch (error) {
    return error as WhereError
  }
  throw new Error('expected an error')
}
