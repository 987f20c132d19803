// Differential test: for generated Prisma where inputs, the rows Postgres selects with the compiled
// where + params are exactly the rows prisma.<model>.findMany({ where }) returns, and the engine's
// evaluator (src/where) agrees on the rows' Electric text form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Prisma } from '../../generated/prisma/client.js'
import { compileShape, type ModelMeta } from '../../src/shape/index.js'
import { compileWhere, type ColumnTypes, type Row } from '../../src/where/index.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import {
  comparable, equality, prismaEquivalent, runSettings, stringOps, whereArbitrary, type FieldSpec,
} from './where-arbitrary.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
  await seed()
})
afterAll(async () => { await db?.drop() })

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`
const pick = <T>(pool: readonly T[], i: number, step: number): T => pool[(i * step + Math.floor(i / pool.length)) % pool.length]!

const strings = [
  'abc', 'ABC', 'Abc', 'abd', 'a%c', 'a_c', 'a\\c', '100%', '_x_', '\\', '%', '', ' ', 'ünïcödé', 'ÜNÏCÖDÉ',
  'straße', 'STRASSE', 'İstanbul', 'ı', '日本語', '😀 emoji', "O'Reilly", 'quote"d', 'NULL', 'a\nb', 'zzz',
]
const fragments = ['a', 'A', 'b', 'c', '%', '_', '\\', 'ü', 'Ü', 'ß', 'é', '😀', 'Reilly', '"', "'"]
const ints = [0, 1, -1, 7, 42, -42, 2147483647, -2147483648, 1000]
const bigs = [0n, 1n, -1n, 9223372036854775807n, -9223372036854775808n, 9007199254740993n, 123456789012345678n, -5n]
const floats = [0, 1.5, -1.5, 1e300, -1e-300, Math.PI, 0.1, 0.30000000000000004, -273.15, 1e-7]
const decimals = ['0', '1.5', '-1.5', '12345678901234.123456', '-99999999999999.999999', '0.000001', '1.1', '42']
const dates = [
  '1970-01-01T00:00:00.000Z', '2024-01-02T03:04:05.123Z', '1999-12-31T23:59:59.999Z', '1900-01-01T00:00:00.000Z',
  '2100-06-15T12:00:00.000Z', '0001-01-01T00:00:00.000Z', '2024-01-02T03:04:05.124Z',
].map((iso) => new Date(iso))
const bytes = [[], [0], [1, 2, 3], [255, 0, 10], [0x5c], [0x25, 0x5f]].map((b) => new Uint8Array(b))
const statuses = ['open', 'in_progress', 'done'] as const
const strLists = [[], ['a'], ['a', 'b'], ['%', '_', '\\'], ['ABC', 'abc'], ['', 'NULL'], ['x y', 'q"z', 'ü'], ['b']]
const intLists = [[], [1], [1, 2, 3], [-5, 2147483647], [0, 0], [7]]
const ROWS = 64

async function seed() {
  const rows: Prisma.AllTypesCreateManyInput[] = []
  for (let i = 0; i < ROWS; i++) {
    const nullish = i % 7 === 3 // some rows null in every nullable column
    const orNull = <T>(value: T, every: number): T | null => (nullish || i % every === 0 ? null : value)
    rows.push({
      id: uuid(i),
      str: orNull(pick(strings, i, 5), 9),
      bool: orNull(i % 2 === 0, 5),
      int: orNull(pick(ints, i, 2), 8),
      big: orNull(pick(bigs, i, 3), 10),
      float: orNull(pick(floats, i, 3), 11),
      dec: orNull(new Prisma.Decimal(pick(decimals, i, 5)), 6),
      date: orNull(pick(dates, i, 2), 12),
      json: i % 4 === 0 ? Prisma.DbNull : { i, tags: ['x'] },
      bytes: orNull(pick(bytes, i, 5), 13),
      status: orNull(pick(statuses, i, 1), 5),
      // undefined leaves the list column NULL, which Prisma reads as []
      strs: i % 9 === 4 ? undefined : pick(strLists, i, 3),
      ints: i % 10 === 5 ? undefined : pick(intLists, i, 5),
      createdAt: new Date(Date.UTC(2020, 0, 1) + i * 86_400_123),
    })
  }
  await db.prisma.allTypes.createMany({ data: rows })

  await db.prisma.todo.createMany({
    data: Array.from({ length: 24 }, (_, i) => ({
      id: uuid(1000 + i),
      title: pick(strings, i, 3),
      completed: i % 3 === 0,
      ownerId: `user-${i % 4}`,
      createdAt: new Date(Date.UTC(2024, 0, 1) + i * 3_600_000),
    })),
  })

  await db.prisma.project.createMany({ data: [0, 1, 2].map((i) => ({ id: uuid(2000 + i), name: `p${i}`, ownerId: 'user-0' })) })
  await db.prisma.membership.createMany({
    data: Array.from({ length: 12 }, (_, i) => ({
      userId: `user-${i % 5}`,
      projectId: uuid(2000 + (i % 3)),
      role: i % 4 === 0 ? 'admin' : 'member',
    })).filter((m, i, all) => all.findIndex((o) => o.userId === m.userId && o.projectId === m.projectId) === i),
  })
}

const anyString = fc.string({ maxLength: 3, unit: 'grapheme' }).filter((s) => !s.includes('\0'))
const seeded = <T>(pool: readonly T[], other: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: other })
const stringValue = seeded([...strings, ...fragments], anyString)
const dateValue = fc.oneof(
  fc.constantFrom(...dates),
  fc.constantFrom(...dates).map((d) => d.toISOString()),
  fc.constantFrom(...dates).map((d) => new Date(d.getTime() + 3_600_000).toISOString().replace('Z', '+01:00')),
  fc.constantFrom(...Array.from({ length: ROWS }, (_, i) => new Date(Date.UTC(2020, 0, 1) + i * 86_400_123))),
  fc.constantFrom(...Array.from({ length: 24 }, (_, i) => new Date(Date.UTC(2024, 0, 1) + i * 3_600_000))),
  fc.date({ min: new Date('1800-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }),
)

const allTypesFields: FieldSpec[] = [
  { kind: 'scalar', name: 'id', value: seeded(Array.from({ length: ROWS }, (_, i) => uuid(i)), fc.uuid().map((u) => u.toUpperCase())), nullable: false, ops: comparable },
  { kind: 'scalar', name: 'str', value: stringValue, nullable: true, ops: stringOps, mode: true, weight: 4 },
  { kind: 'scalar', name: 'bool', value: fc.boolean(), nullable: true, ops: ['equals'] },
  { kind: 'scalar', name: 'int', value: seeded(ints, fc.integer({ min: -2147483648, max: 2147483647 })), nullable: true, ops: comparable },
  {
    kind: 'scalar', name: 'big', nullable: true, ops: comparable,
    value: fc.oneof(seeded<bigint | number>(bigs, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), fc.constantFrom(0, 1, -1, -5, 42)),
  },
  {
    kind: 'scalar', name: 'float', nullable: true, ops: comparable,
    value: seeded(floats, fc.double({ min: -1e300, max: 1e300, noNaN: true })),
    // Prisma sends a Float list that holds a large number as 16-digit decimals (0.30000000000000004
    // becomes 0.3: a Prisma precision bug, not semantics), so list members keep 15 significant digits.
    listValue: seeded(floats, fc.double({ min: -1e300, max: 1e300, noNaN: true })).map((x) => Number(x.toPrecision(15))),
  },
  {
    kind: 'scalar', name: 'dec', nullable: true, ops: comparable,
    value: fc.oneof(
      fc.constantFrom(...decimals),
      fc.constantFrom(...decimals).map((d) => new Prisma.Decimal(d)),
      fc.constantFrom(1.5, -1.5, 0, 42, 0.1),
      fc.tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 8 }))
        .map(([digits, scale]) => new Prisma.Decimal(digits.toString()).dividedBy(10 ** scale)),
    ),
  },
  { kind: 'scalar', name: 'date', value: dateValue, nullable: true, ops: comparable },
  { kind: 'scalar', name: 'bytes', value: seeded(bytes, fc.uint8Array({ maxLength: 3 })), nullable: true, ops: equality },
  { kind: 'scalar', name: 'status', value: fc.constantFrom(...statuses), nullable: true, ops: equality },
  { kind: 'list', name: 'strs', element: fc.oneof(fc.constantFrom('a', 'b', '%', '_', '\\', 'ABC', 'abc', '', 'NULL', 'x y', 'q"z', 'ü'), anyString) },
  { kind: 'list', name: 'ints', element: fc.oneof(fc.constantFrom(0, 1, 2, 3, 7, -5, 2147483647), fc.integer({ min: -2147483648, max: 2147483647 })) },
  { kind: 'scalar', name: 'createdAt', value: dateValue, nullable: false, ops: comparable },
]

type Delegate = { findMany(args: { where: unknown; select: Record<string, true> }): Promise<Record<string, unknown>[]> }

/** A model's rows in Electric's text form, read once: what the engine's evaluator sees. */
const textRows = new Map<ModelMeta, Promise<Row[]>>()
function electricRows(model: ModelMeta): Promise<Row[]> {
  let rows = textRows.get(model)
  if (!rows) {
    rows = (async () => {
      const client = await db.pool.connect()
      try {
        await client.query(`SET DateStyle='ISO, DMY'; SET TimeZone='UTC'; SET extra_float_digits=1; SET bytea_output='hex'`)
        const columns = [...model.byColumn.keys()].map((c) => `to_json("${c}"::text) AS "${c}"`)
        return (await client.query(`SELECT ${columns.join(', ')} FROM "${model.table}"`)).rows
      } finally {
        client.release()
      }
    })()
    textRows.set(model, rows)
  }
  return rows
}

function columnTypes(model: ModelMeta): ColumnTypes {
  return new Map([...model.byColumn.values()].map((f) => [f.column, {
    type: f.pgType, dims: f.isList ? 1 : 0, isEnum: f.kind === 'enum', enumLabels: f.enumValues && [...f.enumValues.values()],
  }]))
}

/**
 * The property: the rows Postgres selects with the compiled where + params are the rows findMany
 * returns, and the engine's own evaluator (src/where) picks the same rows from their text form.
 */
async function sameRows(
  delegate: unknown,
  where: Record<string, unknown>,
  prismaWhere: Record<string, unknown>,
  key: string[],
): Promise<void> {
  const { definition, model } = compileShape(delegate, { where })
  const keyOf = (row: Record<string, unknown>, name: (field: string) => string) => key.map((field) => String(row[name(field)])).join('|')
  const column = (field: string) => model.fields.get(field)!.column
  const sql = `SELECT ${key.map((field) => `"${column(field)}"::text AS "${column(field)}"`).join(', ')} FROM "${definition.table}"` +
    (definition.where ? ` WHERE ${definition.where}` : '')
  const fromShape = (await db.sql(sql, definition.params)).map((row) => keyOf(row, column)).sort()
  const rows = await (delegate as Delegate).findMany({ where: prismaWhere, select: Object.fromEntries(key.map((k) => [k, true])) })
  const fromPrisma = rows.map((row) => keyOf(row, (field) => field)).sort()
  expect({ where: definition.where, params: definition.params, rows: fromShape }).toEqual({ where: definition.where, params: definition.params, rows: fromPrisma })
  const compiled = definition.where === undefined ? undefined : compileWhere(definition.where, columnTypes(model), definition.params)
  const fromEvaluator = (await electricRows(model)).filter((row) => compiled?.evaluate(row) ?? true).map((row) => keyOf(row, column)).sort()
  expect({ where: definition.where, params: definition.params, rows: fromEvaluator }).toEqual({ where: definition.where, params: definition.params, rows: fromShape })
}

describe('compiled where selects the rows findMany returns', () => {
  it(`AllTypes: every scalar type, lists, nested AND/OR/NOT (${runSettings().numRuns} runs)`, async () => {
    const stringFields = new Set(['str'])
    await fc.assert(
      fc.asyncProperty(whereArbitrary(allTypesFields, 3), async (where) => {
        await sameRows(db.prisma.allTypes, where, prismaEquivalent(where, stringFields), ['id'])
      }),
      runSettings(),
    )
  })

  it('AllTypes: the generated inputs reach every kind of filter', () => {
    const seen = new Set<string>()
    const walk = (value: unknown, key: string): void => {
      if (typeof value !== 'object' || value === null || value instanceof Date || value instanceof Uint8Array || Prisma.Decimal.isDecimal(value)) return
      for (const [k, v] of Object.entries(value)) {
        seen.add(/^\d+$/.test(k) ? key : k)
        walk(v, k)
      }
    }
    for (const where of fc.sample(whereArbitrary(allTypesFields, 3), { numRuns: runSettings().numRuns, seed: runSettings().seed })) walk(where, '')
    for (const op of ['AND', 'OR', 'NOT', 'equals', 'not', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte', 'contains', 'startsWith',
      'endsWith', 'mode', 'has', 'hasEvery', 'hasSome', 'isEmpty', ...allTypesFields.map((f) => f.name)]) {
      expect(seen, op).toContain(op)
    }
  })

  const todoFields: FieldSpec[] = [
    { kind: 'scalar', name: 'id', value: fc.oneof(fc.constantFrom(...Array.from({ length: 24 }, (_, i) => uuid(1000 + i))), fc.uuid()), nullable: false, ops: comparable },
    { kind: 'scalar', name: 'title', value: stringValue, nullable: false, ops: stringOps, mode: true },
    { kind: 'scalar', name: 'completed', value: fc.boolean(), nullable: false, ops: ['equals'] },
    { kind: 'scalar', name: 'ownerId', value: fc.constantFrom('user-0', 'user-1', 'user-2', 'user-3', 'user-9', 'USER-1'), nullable: false, ops: stringOps, mode: true },
    { kind: 'scalar', name: 'createdAt', value: dateValue, nullable: false, ops: comparable },
  ]

  it('Todo: @map column and table names', async () => {
    await fc.assert(
      fc.asyncProperty(whereArbitrary(todoFields, 2), async (where) => {
        await sameRows(db.prisma.todo, where, prismaEquivalent(where, new Set(['title', 'ownerId'])), ['id'])
      }),
      runSettings(),
    )
  })

  const userIds = fc.constantFrom('user-0', 'user-1', 'user-2', 'user-3', 'user-4', 'user-7')
  const projectIds = fc.constantFrom(uuid(2000), uuid(2001), uuid(2002), uuid(2009))
  const membershipFields: FieldSpec[] = [
    { kind: 'scalar', name: 'userId', value: userIds, nullable: false, ops: stringOps, mode: true },
    { kind: 'scalar', name: 'projectId', value: projectIds, nullable: false, ops: comparable },
    { kind: 'scalar', name: 'role', value: fc.constantFrom('admin', 'member', 'ADMIN'), nullable: false, ops: stringOps, mode: true },
  ]
  const compoundKey = fc.tuple(fc.constant('userId_projectId'), fc.record({ userId: userIds, projectId: projectIds }))
  // Prisma's findMany has no compound-key input; the same filter is AND of the key fields. An AND next
  // to the compound key is left out so that the rewrite does not have to merge two ANDs.
  const membershipWhere = whereArbitrary(membershipFields, 2, [compoundKey]).map(function dropAndNextToKey(where): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(where)) {
      if (key === 'AND' && 'userId_projectId' in where) continue
      out[key] = key === 'AND' || key === 'OR' || key === 'NOT'
        ? (Array.isArray(value) ? value.map((v) => dropAndNextToKey(v)) : dropAndNextToKey(value as Record<string, unknown>))
        : value
    }
    return out
  })
  const expandKey = (where: Record<string, unknown>) => {
    const { userId_projectId: key, ...rest } = where as { userId_projectId?: { userId: string; projectId: string } }
    return key ? { ...rest, AND: [{ userId: key.userId }, { projectId: key.projectId }] } : where
  }

  it('Membership: composite primary key and the compound-key input', async () => {
    await fc.assert(
      fc.asyncProperty(membershipWhere, async (where) => {
        await sameRows(db.prisma.membership, where, prismaEquivalent(where, new Set(['userId', 'role']), expandKey), ['userId', 'projectId'])
      }),
      runSettings(),
    )
  })
})
