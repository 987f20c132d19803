// The snapshot's message JSON, built by Postgres, against JSON.stringify of the message the engine builds
// in JS from the same row (ShapeLog.keyOf / project, which change messages use): byte for byte, over every
// type of the AllTypes model and values chosen to break escaping (every control character, quotes,
// backslashes, emoji, U+2028), odd names (schema, table, columns, keys with `/`), bpchar padding, NULL key
// parts, and with standard_conforming_strings off. Also end to end: the engine's HTTP-facing snapshot
// chunk equals the JSON array of those messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { shapeOf, startEngine } from '../support/engine.js'
import { loadTable, qualified, type TableInfo } from '../../src/engine/catalog.js'
import { ShapeLog } from '../../src/engine/shape-log.js'
import { displaySettings } from '../../src/engine/snapshot.js'
import { columnText, objectKeyOrder, snapshotMessageSql } from '../../src/engine/snapshot-json.js'
import type { TextRow } from '../../src/engine/transaction.js'

const controls = Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1))
const nasty = [
  '', ' ', '  padded  ', 'NULL', 'null', '"', '""', '\\', '\\\\', '\\u0041', '\\n', 'a\\', '"\\"', "'", "''",
  '/', '//', '"/"', '/_', 'a/b//c', ',', '{}', '{"a":1}', '[1,2]', 'é', 'ÿ', '\u0100', '😀', 'a😀b', '\u2028', '\u2029',
  '\u00a0', '\ufeff', '\u007f', '\u0080', '\u009f', 'x\u2028y\u2029z', '日本語', '\u{10ffff}',
  ...controls, controls.join(''), `q"${controls.join('\\')}"q`, 'x'.repeat(3000) + '\n"\\' + '😀'.repeat(100),
]

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
  const insert = `INSERT INTO all_types (id, str, bool, int_value, big, float, dec, date, json, bytes, status, strs, ints, created_at)
    VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, convert_to($1, 'UTF8'), $9, $10, $11, $12)`
  const floats = ['NaN', 'Infinity', '-Infinity', '-0', '1e-300', '1.7976931348623157e308', '0.1', null]
  const decs = ['NaN', '-123.456789', '0', '99999999999999.999999', null]
  const dates = ['infinity', '-infinity', '2024-02-29 23:59:59.999+05:30', '0044-03-15 12:00:00+00 BC', null]
  const statuses = ['open', 'in progress', 'done', null]
  for (const [i, s] of nasty.entries()) {
    await db.sql(insert, [
      s, i % 3 === 2 ? null : i % 2 === 0, i % 5 === 4 ? null : i * 1000 - 2 ** 31 + 1, i % 2 ? '-9223372036854775808' : '9223372036854775807',
      floats[i % floats.length], decs[i % decs.length], dates[i % dates.length],
      JSON.stringify(i % 2 ? s : { [s]: [s, null, 1.5, { s }] }), statuses[i % statuses.length],
      i % 4 === 3 ? null : [s, null, '', 'a,b', '{x}', '"q"', 'NULL', '\\'], i % 4 === 1 ? null : [1, null, -2],
      '2024-01-01 00:00:00.123',
    ])
  }
  await db.sql(`INSERT INTO all_types (id, created_at) VALUES (gen_random_uuid(), '-infinity')`) // every nullable column NULL

  // Odd names everywhere, a text key with `/`, bpchar padding, array-index and __proto__ column names.
  await db.sql(`CREATE SCHEMA "we""ird\\s"`)
  await db.sql(`CREATE TABLE "we""ird\\s"."t'ab/le" (
    "k/ey" text, n int, "2" text, "10" text, "0" text, "__proto__" text, "é" bpchar(4), "a""b" varchar(10),
    "c\\d" bpchar(3)[], "tab\tname" text, "4294967295" text, "01" text,
    PRIMARY KEY ("k/ey", n))`)
  for (const [i, s] of nasty.entries()) {
    await db.sql(`INSERT INTO "we""ird\\s"."t'ab/le" VALUES ($1, $2, $1, $1, NULL, $1, $3, $4, $5, $1, $1, $1)`,
      [s, i, s.slice(0, 4) || null, s.slice(0, 10), [s.slice(0, 3), null, 'a']])
  }
  // No primary key: the key is every column, by name; NULLs become `_`.
  await db.sql(`CREATE TABLE nokey (b bpchar(5), a text, c int)`)
  await db.sql(`INSERT INTO nokey VALUES ('x', NULL, 1), (NULL, 'a/"b', NULL), (NULL, NULL, NULL), ('ab  ', '\\', 2)`)
  // Every type written without to_json, with its extremes and NULLs; a bpchar key.
  await db.sql(`CREATE TABLE plain (k bpchar(6) PRIMARY KEY, i2 int2, i4 int4, i8 int8, o oid, f4 float4, f8 float8,
    num numeric, b bool, u uuid, d date, t time, tz timetz, ts timestamp, tstz timestamptz, iv interval)`)
  await db.sql(`INSERT INTO plain VALUES
    ('a', -32768, -2147483648, -9223372036854775808, 4294967295, 'NaN', '-Infinity', 'NaN', true, gen_random_uuid(),
     '0001-01-01 BC', '24:00:00', '23:59:59.999999-15:59', 'infinity', '-infinity', '-178000000 years'),
    ('b/"c', 32767, 0, 0, 0, '-0', '5e-324', '-0.000000000000000000001', false, NULL,
     'infinity', '00:00:00.000001', '00:00+14', '294276-12-31 23:59:59.999999', '4713-01-01 00:00:00+00 BC', '1 year 2 mons -3 days 04:05:06.789'),
    ('n', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
})
afterAll(async () => {
  await db?.drop()
})

/** The snapshot SQL's text and the JS message of each row, read in one transaction with the engine's settings. */
async function both(namespace: string, name: string, options: { columns?: string[]; settings?: Record<string, string> } = {}) {
  const table = await loadTable(db.pool, namespace, name)
  const columns = options.columns ?? table.columns.map((c) => c.name)
  const log = new ShapeLog('h', { table: name, namespace, replica: 'default' }, table, columns, { chunkBytes: 1e7, maxEntries: 1e6 })
  const client = await db.pool.connect()
  try {
    await client.query('BEGIN')
    for (const [setting, value] of Object.entries({ ...displaySettings, ...options.settings })) {
      await client.query(`SELECT set_config($1, $2, true)`, [setting, value])
    }
    const texts = table.columns.map((c) => columnText(c))
    const { rows } = await client.query<(string | null)[]>({
      text: `SELECT ${snapshotMessageSql(table, columns)}, ${texts.join(', ')} FROM ${qualified(namespace, name)}`,
      rowMode: 'array',
    })
    await client.query('COMMIT')
    return rows.map(([sql, ...values]) => {
      const row: TextRow = Object.fromEntries(table.columns.map((c, i) => [c.name, values[i] ?? null]))
      return { sql, js: JSON.stringify({ key: log.keyOf(row), value: log.project(row), headers: { operation: 'insert', relation: log.relation } }) }
    })
  } finally {
    client.release()
  }
}

function expectSame(pairs: { sql: string | null | undefined; js: string }[], count: number) {
  expect(pairs).toHaveLength(count)
  for (const { sql, js } of pairs) expect(sql).toBe(js)
}

describe('snapshot message JSON built by Postgres', () => {
  it('equals JSON.stringify of the JS message for every AllTypes type and every nasty value', async () => {
    expectSame(await both('public', 'all_types'), nasty.length + 1)
  })

  it('equals it for odd schema, table and column names, a text key with `/`, bpchar padding and arrays', async () => {
    expectSame(await both('we"ird\\s', "t'ab/le"), nasty.length)
  })

  it('equals it with standard_conforming_strings off (backslashes in literals)', async () => {
    expectSame(await both('we"ird\\s', "t'ab/le", { settings: { standard_conforming_strings: 'off' } }), nasty.length)
    expectSame(await both('public', 'all_types', { settings: { standard_conforming_strings: 'off' } }), nasty.length + 1)
  })

  it('equals it for a table without a primary key (NULL key parts as `_`)', async () => {
    expectSame(await both('public', 'nokey'), 4)
  })

  it('equals it for the types written without escaping, at their extremes', async () => {
    expectSame(await both('public', 'plain'), 3)
  })

  it('equals it for selected columns only (the key still from the whole primary key)', async () => {
    expectSame(await both('we"ird\\s', "t'ab/le", { columns: ['n', '2', '__proto__', 'é'] }), nasty.length)
    expectSame(await both('public', 'all_types', { columns: ['id', 'json'] }), nasty.length + 1)
  })

  it('orders keys as a JS object does (array indexes first, ascending) and drops __proto__', () => {
    expect(objectKeyOrder(['b', '10', 'a', '2', '__proto__', '01', '0', '4294967295', '4294967294'])).toEqual(
      ['0', '2', '10', '4294967294', 'b', 'a', '01', '4294967295'])
  })

  it('serves the engine snapshot of those rows as the JSON array of the JS messages', async () => {
    const engine = await startEngine(db.url)
    try {
      const pairs = await both('we"ird\\s', "t'ab/le")
      const result = await engine.fetch(shapeOf("t'ab/le", { namespace: 'we"ird\\s' }), { offset: '-1' })
      if (result.status !== 'ok') throw new Error(result.status)
      const body = [...result.arrayPieces!()].join('')
      // One chunk: the rows in the table's scan order (as the reference read them), then snapshot-end.
      expect(body.startsWith(`[${pairs.map((p) => p.js).join(',')},{"headers":{"control":"snapshot-end"`)).toBe(true)
      expect(body).toBe(`[${result.encoded.join(',')}]`)
      expect(result.messages).toEqual(JSON.parse(body))
    } finally {
      await engine.close()
    }
  })
})
