import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/prisma/client.js'
import { modelOf, parseRow, ShapeError, toTextValue, type FieldMeta, type ModelMeta } from '../../src/shape/index.js'
import { formatArray, formatDateTime, parseArray, parseDateTime } from '../../src/shape/pg-text.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

const electricSession = `SET DateStyle='ISO, DMY'; SET TimeZone='UTC'; SET extra_float_digits=1; SET bytea_output='hex'`

/** Each row's columns as Postgres text, the way Electric snapshots them (`to_json(col::text)`). */
async function textRows(model: ModelMeta): Promise<Record<string, string | null>[]> {
  const columns = [...model.byColumn.keys()]
  const client = await db.pool.connect()
  try {
    await client.query(electricSession)
    const select = columns.map((c) => `to_json("${c}"::text) AS "${c}"`).join(', ')
    return (await client.query(`SELECT ${select} FROM "${model.table}" AS t ORDER BY t."id"`)).rows
  } finally {
    client.release()
  }
}

const rows: Prisma.AllTypesCreateManyInput[] = [
  {
    str: 'plain', bool: true, int: 2147483647, big: 9223372036854775807n, float: 1.5,
    dec: new Prisma.Decimal('12345678901234.123456'), date: new Date('2024-01-02T03:04:05.123Z'),
    json: { a: [1, 'b', null], 'q"': 'x\\y', nested: { deep: true } }, bytes: new Uint8Array([0, 10, 255]), status: 'in_progress',
    strs: ['a b', 'c"d', 'NULL', 'null', '', 'e\\f', 'ü', ' lead', 'trail ', 'x,y', '{z}'], ints: [1, -2, 0],
    createdAt: new Date('1999-12-31T23:59:59.999Z'),
  },
  {
    str: 'ünïcödé 😀 \'q\' "d" \\ \n\t', bool: false, int: -2147483648, big: -9223372036854775808n, float: 1e300,
    dec: new Prisma.Decimal('-0.000001'), date: new Date('0001-01-01T00:00:00.000Z'), json: [1, 2.5, 'x', false],
    bytes: new Uint8Array([]), status: 'open', strs: [], ints: [], createdAt: new Date('2024-06-01T12:00:00.100Z'),
  },
  { str: '', float: 0.30000000000000004, dec: 0, json: 'just a string', status: 'done', date: new Date('2100-06-15T12:00:00.010Z'), createdAt: new Date(0) },
  { float: -1e-7, dec: '99999999999999.999999', json: Prisma.JsonNull, bytes: new Uint8Array([0x5c, 0x22, 0x2c]), strs: ['only'], ints: [2147483647] },
  { float: 1e21, json: 42, big: 0n, int: 0 },
  { float: -0, json: true, bool: null },
  {},
]

describe('parseRow and toTextValue against real rows', () => {
  beforeAll(async () => {
    await db.prisma.allTypes.createMany({ data: rows })
  })

  it('parseRow of the Electric text form equals what findMany returns', async () => {
    const model = modelOf(db.prisma.allTypes)
    const fromPrisma = await db.prisma.allTypes.findMany({ orderBy: { id: 'asc' } })
    const text = await textRows(model)
    expect(text).toHaveLength(rows.length)
    expect(text.map((row) => parseRow(model, row))).toStrictEqual(fromPrisma)
    const plain = parseRow<(typeof fromPrisma)[number]>(model, text[fromPrisma.findIndex((row) => row.str === 'plain')]!)
    expect(plain.dec).toBeInstanceOf(Prisma.Decimal)
    expect(plain.bytes).toBeInstanceOf(Uint8Array)
    expect(plain.big).toBe(9223372036854775807n)
  })

  it('toTextValue gives text Postgres reads as the same value, and parseRow reads back', async () => {
    const model = modelOf(db.prisma.allTypes)
    const fromPrisma = await db.prisma.allTypes.findMany({ orderBy: { id: 'asc' } })
    const text = await textRows(model)
    // Types whose text form is canonical: toTextValue prints exactly what Postgres prints.
    const canonical = new Set(['String', 'Boolean', 'Int', 'BigInt', 'DateTime', 'Bytes'])
    for (const [i, row] of fromPrisma.entries()) {
      for (const field of model.fields.values()) {
        if (field.kind === 'object') continue
        const value = (row as Record<string, unknown>)[field.name]
        const asText = toTextValue(field, value)
        const cast = `${field.pgType === 'issue_status' ? '"issue_status"' : field.pgType}${field.isList ? '[]' : ''}`
        const column = `"${field.column}"`
        // A NULL list reads as [], which is '{}' in SQL; compare those with IS NOT DISTINCT FROM after coalescing.
        // findMany gives null for both SQL NULL and a JSON null; toTextValue(null) is SQL NULL.
        if (field.type === 'Json' && value === null) continue
        const [{ same }] = await db.sql(
          `SELECT coalesce(${column}, ${field.isList ? `'{}'` : 'NULL'}) IS NOT DISTINCT FROM $1::${cast} AS same FROM all_types WHERE id = $2`,
          [asText, row.id],
        )
        expect(same, `${field.name} of row ${i}: ${asText}`).toBe(true)
        expect(parseRow(model, { [field.column]: asText })).toStrictEqual({ [field.name]: value })
        if (!field.isList && (canonical.has(field.type) || field.kind === 'enum')) expect(asText, field.name).toBe(text[i]![field.column])
      }
    }
  })

  it('reads a column subset, pgoutput booleans and ignores unknown columns', () => {
    const model = modelOf(db.prisma.todo)
    expect(parseRow(model, { id: 'x', is_completed: 't', other: 'y' })).toStrictEqual({ id: 'x', completed: true })
    expect(parseRow(model, { is_completed: 'f', created_at: '2024-01-02 03:04:05.1+00' }))
      .toStrictEqual({ completed: false, createdAt: new Date('2024-01-02T03:04:05.100Z') })
    expect(parseRow(model, { is_completed: 'true' })).toStrictEqual({ completed: true })
    const all = modelOf(db.prisma.allTypes)
    expect(parseRow(all, { strs: null, ints: '{1,NULL,3}', status: 'in progress' }))
      .toStrictEqual({ status: 'in_progress', strs: [], ints: [1, null, 3] })
  })
})

describe('toTextValue', () => {
  const all = () => modelOf(db.prisma.allTypes)
  const field = (name: string): FieldMeta => all().fields.get(name)!

  it('writes params and Writer values as Postgres text', () => {
    expect(toTextValue(field('bool'), false)).toBe('false')
    expect(toTextValue(field('big'), 12)).toBe('12')
    expect(toTextValue(field('dec'), '1e-3')).toBe('0.001')
    expect(toTextValue(field('dec'), { d: [15], e: 0, s: 1, toFixed: () => '1.5' })).toBe('1.5')
    expect(toTextValue(field('date'), '2024-01-02T03:04:05.123456+01:00')).toBe('2024-01-02 02:04:05.123+00')
    expect(toTextValue(field('createdAt'), new Date('2024-01-02T03:04:05Z'))).toBe('2024-01-02 03:04:05')
    expect(toTextValue(field('status'), 'in_progress')).toBe('in progress')
    expect(toTextValue(field('strs'), ['a', null, 'b"\\'])).toBe('{"a",NULL,"b\\"\\\\"}')
    expect(toTextValue(field('ints'), [])).toBe('{}')
    expect(toTextValue(field('json'), { a: 1 })).toBe('{"a":1}')
    expect(toTextValue(field('json'), Prisma.JsonNull)).toBe('null')
    expect(toTextValue(field('json'), Prisma.DbNull)).toBeNull()
    expect(toTextValue(field('str'), null)).toBeNull()
  })

  it('rejects values that do not fit, naming the path', () => {
    const fails = (name: string, value: unknown, problem: RegExp, path = name) => {
      expect(() => toTextValue(field(name), value)).toThrow(ShapeError)
      try {
        toTextValue(field(name), value)
      } catch (error) {
        expect((error as ShapeError).path).toBe(path)
        expect((error as ShapeError).problem).toMatch(problem)
      }
    }
    fails('ints', [1, 'x'], /expected an integer, got a string/, 'ints[1]')
    fails('ints', 1, /expected a list of an integer/)
    fails('int', 2 ** 31, /out of range for int4/)
    fails('json', 1n, /not JSON-serializable/)
    fails('json', undefined, /expected a JSON value/)
    fails('date', 'yesterday', /not an ISO-8601 date-time/)
    fails('dec', '1,5', /not a decimal number/)
    fails('dec', new Prisma.Decimal('1e200000'), /out of range for numeric/)
    fails('bytes', [1, 2], /expected a Uint8Array, got an array/)
  })
})

describe('Postgres text formats', () => {
  it('array literals', () => {
    expect(parseArray('{}')).toEqual([])
    expect(parseArray('{1,2,NULL}')).toEqual(['1', '2', null])
    expect(parseArray('{"a b","c\\"d",NULL,"NULL",null,"\\\\"}')).toEqual(['a b', 'c"d', null, 'NULL', null, '\\'])
    expect(parseArray('{ a , b }')).toEqual(['a', 'b'])
    expect(parseArray('{a\\,b,c\\\\}')).toEqual(['a,b', 'c\\'])
    expect(parseArray('[0:1]={x,y}')).toEqual(['x', 'y'])
    expect(parseArray('{""}')).toEqual([''])
    expect(() => parseArray('{{1,2},{3,4}}')).toThrow(/nested/)
    expect(() => parseArray('1,2')).toThrow(/not an array literal/)
    for (const items of [[], ['a'], ['', null, 'NULL', ' x ', '"', '\\', ',', '{}', 'ü😀']]) {
      expect(parseArray(formatArray(items))).toEqual(items)
    }
  })

  it('dates and times as Postgres prints them in UTC, both ways', () => {
    const cases: [string, Parameters<typeof formatDateTime>[1], string][] = [
      ['2024-01-02T03:04:05.120Z', 'timestamptz', '2024-01-02 03:04:05.12+00'],
      ['2024-01-02T03:04:05.000Z', 'timestamp', '2024-01-02 03:04:05'],
      ['2024-01-02T00:00:00.000Z', 'date', '2024-01-02'],
      ['1970-01-01T03:04:05.006Z', 'time', '03:04:05.006'],
      ['1970-01-01T03:04:05.000Z', 'timetz', '03:04:05+00'],
      ['-000043-03-15T10:00:00.000Z', 'timestamptz', '0044-03-15 10:00:00+00 BC'],
      ['+010000-01-01T00:00:00.000Z', 'timestamp', '10000-01-01 00:00:00'],
      ['0099-12-31T00:00:00.000Z', 'date', '0099-12-31'],
    ]
    for (const [iso, type, text] of cases) {
      expect(formatDateTime(new Date(iso), type)).toBe(text)
      expect(parseDateTime(text, type).toISOString()).toBe(iso)
    }
    expect(parseDateTime('2024-01-02 03:04:05.123456+05:30', 'timestamptz').toISOString()).toBe('2024-01-01T21:34:05.123Z')
    expect(parseDateTime('1900-01-01 00:00:00-00:19:32', 'timestamptz').toISOString()).toBe('1900-01-01T00:19:32.000Z')
    expect(parseDateTime('03:04:05-02', 'timetz').toISOString()).toBe('1970-01-01T05:04:05.000Z')
    expect(Number.isNaN(parseDateTime('infinity', 'timestamptz').getTime())).toBe(true)
    expect(() => parseDateTime('tomorrow', 'date')).toThrow(/not a date value/)
  })
})
