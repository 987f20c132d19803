import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { skip } from '@prisma/client/runtime/client'
import { Prisma } from '../../generated/prisma/client.js'
import { compileShape, ShapeError, type ShapeDefinition } from '../../src/shape/index.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { comparable, runSettings, stringOps, whereArbitrary, type FieldSpec } from './where-arbitrary.js'

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

const id = '0a1b2c3d-0000-4000-8000-000000000001'

/** Compiles against the model and checks Postgres accepts the where clause with its params. */
async function shape(delegate: unknown, options: Record<string, unknown>): Promise<ShapeDefinition> {
  const { definition } = compileShape(delegate, options)
  await db.sql(`SELECT count(*) FROM "${definition.table}"${definition.where ? ` WHERE ${definition.where}` : ''}`, definition.params)
  return definition
}

async function where(delegate: unknown, input: Record<string, unknown>): Promise<Pick<ShapeDefinition, 'where' | 'params'>> {
  const { where, params } = await shape(delegate, { where: input })
  return { where, params }
}

function shapeError(run: () => unknown, path: string, problem: RegExp): void {
  let error: unknown
  try {
    run()
  } catch (caught) {
    error = caught
  }
  expect(error, `expected a ShapeError at ${path}`).toBeInstanceOf(ShapeError)
  const { path: actual, problem: text, message } = error as ShapeError
  expect({ path: actual, problem: text }).toEqual({ path, problem: expect.stringMatching(problem) })
  expect(message).toBe(`${path}: ${text}`)
}

describe('compileShape: definition', () => {
  it('uses database names and quoted identifiers, with $n parameters as Postgres text', async () => {
    const { definition, model } = compileShape(db.prisma.todo, { where: { completed: false, ownerId: 'u1' } })
    expect(model.name).toBe('Todo')
    expect(definition).toEqual({
      table: 'todos',
      namespace: 'public',
      where: '"is_completed" = $1 AND "owner_id" = $2',
      params: ['false', 'u1'],
      replica: 'default',
    })
  })

  it('has no where and no params without filters', async () => {
    expect(await shape(db.prisma.todo, {})).toEqual({ table: 'todos', namespace: 'public', replica: 'default' })
    expect(await shape(db.prisma.todo, { where: {} })).toEqual({ table: 'todos', namespace: 'public', replica: 'default' })
    expect(await shape(db.prisma.todo, { where: { title: undefined, completed: { equals: undefined } } }))
      .toEqual({ table: 'todos', namespace: 'public', replica: 'default' })
  })

  it('ignores Prisma.skip like undefined', async () => {
    expect(await where(db.prisma.todo, { title: skip, completed: { equals: skip, not: true } }))
      .toEqual({ where: '"is_completed" <> $1', params: ['true'] })
  })

  it('takes columns from select, primary key first in model order, always included', async () => {
    expect((await shape(db.prisma.todo, { select: { title: true } })).columns).toEqual(['id', 'title'])
    expect((await shape(db.prisma.todo, { select: { createdAt: true, id: true, completed: false } })).columns)
      .toEqual(['id', 'created_at'])
    expect((await shape(db.prisma.membership, { select: { role: true } })).columns).toEqual(['user_id', 'project_id', 'role'])
    expect((await shape(db.prisma.todo, {})).columns).toBeUndefined()
  })

  it('passes replica through', async () => {
    expect((await shape(db.prisma.todo, { replica: 'full' })).replica).toBe('full')
    expect((await shape(db.prisma.todo, { replica: 'default' })).replica).toBe('default')
  })

  it('is typed by the delegate like findMany', () => {
    // @ts-expect-error completed is a boolean
    expect(() => compileShape(db.prisma.todo, { where: { completed: 'yes' } })).toThrow(ShapeError)
    // @ts-expect-error no such field
    expect(() => compileShape(db.prisma.todo, { where: { nope: 1 } })).toThrow(ShapeError)
  })
})

describe('compileShape: filters', () => {
  it('shorthand, equals, not, null', async () => {
    expect(await where(db.prisma.allTypes, { str: 'a' })).toEqual({ where: '"str" = $1', params: ['a'] })
    expect(await where(db.prisma.allTypes, { str: { equals: 'a' } })).toEqual({ where: '"str" = $1', params: ['a'] })
    expect(await where(db.prisma.allTypes, { str: { not: 'a' } })).toEqual({ where: '"str" <> $1', params: ['a'] })
    expect(await where(db.prisma.allTypes, { str: null })).toEqual({ where: '"str" IS NULL', params: undefined })
    expect(await where(db.prisma.allTypes, { str: { equals: null } })).toEqual({ where: '"str" IS NULL', params: undefined })
    expect(await where(db.prisma.allTypes, { str: { not: null } })).toEqual({ where: '"str" IS NOT NULL', params: undefined })
    expect(await where(db.prisma.allTypes, { str: { in: null } })).toEqual({ where: '"str" IS NULL', params: undefined })
    expect(await where(db.prisma.allTypes, { str: { notIn: null } })).toEqual({ where: '"str" IS NOT NULL', params: undefined })
  })

  it('nested not inverts each operation, as Prisma does', async () => {
    expect(await where(db.prisma.allTypes, { int: { not: { gt: 1, lt: 5 } } }))
      .toEqual({ where: '"int_value" <= $1 AND "int_value" >= $2', params: ['1', '5'] })
    expect(await where(db.prisma.allTypes, { int: { not: { lte: 1, gte: 5 } } }))
      .toEqual({ where: '"int_value" > $1 AND "int_value" < $2', params: ['1', '5'] })
    expect(await where(db.prisma.allTypes, { int: { not: { equals: 2, in: [3], notIn: [4] } } }))
      .toEqual({ where: '"int_value" <> $1 AND "int_value" <> ALL($2::int4[]) AND "int_value" = ANY($3::int4[])', params: ['2', '{"3"}', '{"4"}'] })
    expect(await where(db.prisma.allTypes, { int: { not: { not: { equals: 2 } } } })).toEqual({ where: '"int_value" = $1', params: ['2'] })
    expect(await where(db.prisma.allTypes, { int: { not: { not: 2 } } })).toEqual({ where: '"int_value" <> $1', params: ['2'] })
    expect(await where(db.prisma.allTypes, { int: { not: { equals: null } } })).toEqual({ where: '"int_value" IS NOT NULL', params: undefined })
    expect(await where(db.prisma.allTypes, { str: { not: { contains: 'x' } } })).toEqual({ where: '"str" NOT LIKE $1', params: ['%x%'] })
  })

  it('in and notIn as one array parameter; notIn [] is no filter', async () => {
    expect(await where(db.prisma.todo, { ownerId: { in: ['a', 'b"c'] } }))
      .toEqual({ where: '"owner_id" = ANY($1::text[])', params: ['{"a","b\\"c"}'] })
    expect(await where(db.prisma.todo, { ownerId: { notIn: ['a'] } })).toEqual({ where: '"owner_id" <> ALL($1::text[])', params: ['{"a"}'] })
    expect(await where(db.prisma.todo, { ownerId: { notIn: [] } })).toEqual({ where: undefined, params: undefined })
    expect(await where(db.prisma.todo, { NOT: { ownerId: { notIn: [] } } })).toEqual({ where: 'false', params: undefined })
  })

  it('comparisons', async () => {
    expect(await where(db.prisma.allTypes, { int: { lt: 1, lte: 2, gt: -3, gte: -4 } }))
      .toEqual({ where: '"int_value" < $1 AND "int_value" <= $2 AND "int_value" > $3 AND "int_value" >= $4', params: ['1', '2', '-3', '-4'] })
    expect(await where(db.prisma.todo, { title: { gt: 'm' } })).toEqual({ where: '"title" > $1', params: ['m'] })
  })

  it('contains / startsWith / endsWith take the value literally: % _ and \\ escaped', async () => {
    expect(await where(db.prisma.todo, { title: { contains: '50%_off\\' } }))
      .toEqual({ where: '"title" LIKE $1', params: ['%50\\%\\_off\\\\%'] })
    expect(await where(db.prisma.todo, { title: { startsWith: '%' } })).toEqual({ where: '"title" LIKE $1', params: ['\\%%'] })
    expect(await where(db.prisma.todo, { title: { endsWith: '_' } })).toEqual({ where: '"title" LIKE $1', params: ['%\\_'] })
    await db.prisma.todo.createMany({ data: ['50%_off\\', '50xxoff\\', 'a_b', 'axb'].map((title) => ({ title, ownerId: 'like' })) })
    const titles = async (filter: Record<string, unknown>) => {
      const { where: sql, params } = await where(db.prisma.todo, { ownerId: 'like', title: filter })
      return (await db.sql(`SELECT title FROM todos WHERE ${sql} ORDER BY title`, params)).map((r) => r.title)
    }
    expect(await titles({ contains: '%_' })).toEqual(['50%_off\\'])
    expect(await titles({ contains: '_' })).toEqual(['50%_off\\', 'a_b'])
    expect(await titles({ endsWith: 'off\\' })).toEqual(['50%_off\\', '50xxoff\\'])
  })

  it("mode 'insensitive': ILIKE for patterns, lower() for equality, lists and comparisons", async () => {
    expect(await where(db.prisma.todo, { title: { contains: 'Ab', mode: 'insensitive' } })).toEqual({ where: '"title" ILIKE $1', params: ['%Ab%'] })
    expect(await where(db.prisma.todo, { title: { not: { startsWith: 'Ab' }, mode: 'insensitive' } }))
      .toEqual({ where: '"title" NOT ILIKE $1', params: ['Ab%'] })
    expect(await where(db.prisma.todo, { title: { equals: 'Ab', mode: 'insensitive' } }))
      .toEqual({ where: 'lower("title") = lower($1)', params: ['Ab'] })
    expect(await where(db.prisma.todo, { title: { not: 'Ab', mode: 'insensitive' } }))
      .toEqual({ where: 'lower("title") <> lower($1)', params: ['Ab'] })
    expect(await where(db.prisma.todo, { title: { in: ['A', 'b'], mode: 'insensitive' } }))
      .toEqual({ where: 'lower("title") IN (lower($1), lower($2))', params: ['A', 'b'] })
    expect(await where(db.prisma.todo, { title: { notIn: ['A'], mode: 'insensitive' } }))
      .toEqual({ where: 'lower("title") NOT IN (lower($1))', params: ['A'] })
    expect(await where(db.prisma.todo, { title: { lt: 'M', mode: 'insensitive' } }))
      .toEqual({ where: 'lower("title") < lower($1)', params: ['M'] })
    expect(await where(db.prisma.todo, { title: { equals: 'Ab', mode: 'default' } })).toEqual({ where: '"title" = $1', params: ['Ab'] })
  })

  it('AND / OR / NOT as objects or arrays, with Prisma\'s empty-group rules', async () => {
    const a = { ownerId: 'a' }
    const b = { ownerId: 'b' }
    expect(await where(db.prisma.todo, { AND: [a, b] })).toEqual({ where: '"owner_id" = $1 AND "owner_id" = $2', params: ['a', 'b'] })
    expect(await where(db.prisma.todo, { AND: a })).toEqual({ where: '"owner_id" = $1', params: ['a'] })
    expect(await where(db.prisma.todo, { OR: [a, b] })).toEqual({ where: '"owner_id" = $1 OR "owner_id" = $2', params: ['a', 'b'] })
    expect(await where(db.prisma.todo, { OR: a })).toEqual({ where: '"owner_id" = $1', params: ['a'] })
    expect(await where(db.prisma.todo, { NOT: a })).toEqual({ where: 'NOT ("owner_id" = $1)', params: ['a'] })
    expect(await where(db.prisma.todo, { NOT: [a, b] })).toEqual({ where: 'NOT ("owner_id" = $1) AND NOT ("owner_id" = $2)', params: ['a', 'b'] })
    expect(await where(db.prisma.todo, { NOT: { ...a, completed: true } }))
      .toEqual({ where: 'NOT ("owner_id" = $1 AND "is_completed" = $2)', params: ['a', 'true'] })
    expect(await where(db.prisma.todo, { OR: [a, { AND: [b, { completed: true }] }], title: 't' }))
      .toEqual({ where: '("owner_id" = $1 OR ("owner_id" = $2 AND "is_completed" = $3)) AND "title" = $4', params: ['a', 'b', 'true', 't'] })
    // Empty groups: TRUE (AND, NOT) or FALSE (OR) at the top, dropped when nested; empty objects are dropped.
    expect(await where(db.prisma.todo, { AND: [] })).toEqual({ where: undefined, params: undefined })
    expect(await where(db.prisma.todo, { NOT: [] })).toEqual({ where: undefined, params: undefined })
    expect(await where(db.prisma.todo, { OR: [] })).toEqual({ where: 'false', params: undefined })
    expect(await where(db.prisma.todo, { OR: [{}] })).toEqual({ where: 'false', params: undefined })
    expect(await where(db.prisma.todo, { OR: [], ...a })).toEqual({ where: 'false', params: undefined })
    expect(await where(db.prisma.todo, { AND: { OR: [] } })).toEqual({ where: undefined, params: undefined })
    expect(await where(db.prisma.todo, { AND: [{ OR: [], ...a }] })).toEqual({ where: '"owner_id" = $1', params: ['a'] })
    expect(await where(db.prisma.todo, { OR: [{}, a] })).toEqual({ where: '"owner_id" = $1', params: ['a'] })
    expect(await where(db.prisma.todo, { OR: [{ title: {} }, { title: { mode: 'insensitive' } }] })).toEqual({ where: 'false', params: undefined })
  })

  it('enums by Prisma name, sent as database labels', async () => {
    expect(await where(db.prisma.allTypes, { status: 'in_progress' })).toEqual({ where: '"status" = $1::"issue_status"', params: ['in progress'] })
    expect(await where(db.prisma.allTypes, { status: { in: ['in_progress', 'done'], not: 'open' } }))
      .toEqual({ where: '"status" = ANY($1::"issue_status"[]) AND "status" <> $2::"issue_status"', params: ['{"in progress","done"}', 'open'] })
  })

  it('DateTime from a Date or an ISO string, BigInt, Decimal, Bytes, Boolean, Float, uuid', async () => {
    expect(await where(db.prisma.allTypes, { date: { gte: new Date('2024-01-02T03:04:05.123Z') } }))
      .toEqual({ where: '"date" >= $1::timestamptz', params: ['2024-01-02 03:04:05.123+00'] })
    expect(await where(db.prisma.allTypes, { date: '2024-01-02T05:04:05.5+02:00' }))
      .toEqual({ where: '"date" = $1::timestamptz', params: ['2024-01-02 03:04:05.5+00'] })
    expect(await where(db.prisma.allTypes, { createdAt: { lt: '2024-01-02 03:04:05Z' } }))
      .toEqual({ where: '"created_at" < $1::timestamp', params: ['2024-01-02 03:04:05'] })
    expect(await where(db.prisma.allTypes, { big: 9223372036854775807n })).toEqual({ where: '"big" = $1::int8', params: ['9223372036854775807'] })
    expect(await where(db.prisma.allTypes, { big: { in: [-1, 2n] } })).toEqual({ where: '"big" = ANY($1::int8[])', params: ['{"-1","2"}'] })
    expect(await where(db.prisma.allTypes, { dec: new Prisma.Decimal('12345678901234.123456') }))
      .toEqual({ where: '"dec" = $1::numeric', params: ['12345678901234.123456'] })
    expect(await where(db.prisma.allTypes, { dec: { gt: 1e21, lt: '-1.5e-3' } }))
      .toEqual({ where: '"dec" > $1::numeric AND "dec" < $2::numeric', params: ['1000000000000000000000', '-0.0015'] })
    expect(await where(db.prisma.allTypes, { bytes: new Uint8Array([0, 10, 255]) })).toEqual({ where: '"bytes" = $1::bytea', params: ['\\x000aff'] })
    expect(await where(db.prisma.allTypes, { bytes: { in: [Buffer.from([1])] } })).toEqual({ where: '"bytes" = ANY($1::bytea[])', params: ['{"\\\\x01"}'] })
    expect(await where(db.prisma.allTypes, { bool: true })).toEqual({ where: '"bool" = $1', params: ['true'] })
    expect(await where(db.prisma.allTypes, { float: { gt: -0, lt: 0.30000000000000004 } }))
      .toEqual({ where: '"float" > $1 AND "float" < $2', params: ['-0', '0.30000000000000004'] })
    expect(await where(db.prisma.allTypes, { id: id.toUpperCase() })).toEqual({ where: '"id" = $1::uuid', params: [id] })
    expect(await where(db.prisma.allTypes, { id: { lt: `{${id.replaceAll('-', '')}}` } })).toEqual({ where: '"id" < $1::uuid', params: [id] })
  })

  it('scalar lists: has, hasEvery, hasSome, isEmpty, equals', async () => {
    expect(await where(db.prisma.allTypes, { strs: { has: 'a"b' } })).toEqual({ where: '"strs" @> $1::text[]', params: ['{"a\\"b"}'] })
    expect(await where(db.prisma.allTypes, { strs: { has: null } })).toEqual({ where: '"strs" @> $1::text[]', params: ['{NULL}'] })
    expect(await where(db.prisma.allTypes, { ints: { hasEvery: [1, 2] } })).toEqual({ where: '"ints" @> $1::int4[]', params: ['{"1","2"}'] })
    expect(await where(db.prisma.allTypes, { ints: { hasSome: [] } })).toEqual({ where: '"ints" && $1::int4[]', params: ['{}'] })
    expect(await where(db.prisma.allTypes, { strs: { isEmpty: true } })).toEqual({ where: `"strs" = '{}'`, params: undefined })
    expect(await where(db.prisma.allTypes, { strs: { isEmpty: false } })).toEqual({ where: `"strs" <> '{}'`, params: undefined })
    expect(await where(db.prisma.allTypes, { ints: { equals: [3, 1] } })).toEqual({ where: '"ints" = $1::int4[]', params: ['{"3","1"}'] })
    expect(await where(db.prisma.allTypes, { ints: { equals: null } })).toEqual({ where: '"ints" IS NULL', params: undefined })
  })

  it('composite primary key input', async () => {
    expect(await where(db.prisma.membership, { userId_projectId: { userId: 'u', projectId: id } }))
      .toEqual({ where: '"user_id" = $1 AND "project_id" = $2::uuid', params: ['u', id] })
  })
})

describe('compileShape: bad input is a ShapeError naming the path and the problem', () => {
  const todo = () => db.prisma.todo
  const all = () => db.prisma.allTypes
  const compile = (delegate: unknown, options: Record<string, unknown>) => () => compileShape(delegate, options)
  const whereOf = (delegate: unknown, input: unknown) => compile(delegate, { where: input })

  it('unknown model', () => {
    shapeError(compile({}, {}), 'model', /Prisma model delegate/)
    shapeError(compile('todos', {}), 'model', /Prisma model delegate/)
    shapeError(compile({ $name: 'Nope', $parent: db.prisma }, {}), 'model', /unknown Prisma model "Nope"/)
  })

  it('unknown field', () => {
    shapeError(whereOf(todo(), { nope: 1 }), 'where.nope', /unknown field "nope" on model Todo/)
    shapeError(whereOf(todo(), { AND: [{ title: 'a' }, { is_completed: true }] }), 'where.AND[1].is_completed', /unknown field/)
    shapeError(whereOf(todo(), { OR: [{ NOT: { Title: 'a' } }] }), 'where.OR[0].NOT.Title', /unknown field/)
  })

  it('unsupported operator', () => {
    shapeError(whereOf(todo(), { completed: { contains: 'x' } }), 'where.completed.contains', /unsupported filter "contains" on Boolean field completed; supported: equals, not/)
    shapeError(whereOf(all(), { status: { lt: 'done' } }), 'where.status.lt', /unsupported filter "lt" on enum IssueStatus field status/)
    shapeError(whereOf(all(), { bytes: { gt: new Uint8Array() } }), 'where.bytes.gt', /unsupported filter "gt" on Bytes/)
    shapeError(whereOf(todo(), { title: { has: 'x' } }), 'where.title.has', /unsupported filter "has" on String field title/)
    shapeError(whereOf(todo(), { title: { regex: 'x' } }), 'where.title.regex', /unsupported filter "regex"/)
    shapeError(whereOf(todo(), { id: { contains: 'a' } }), 'where.id.contains', /unsupported filter "contains"/)
    shapeError(whereOf(all(), { int: { mode: 'insensitive', equals: 1 } }), 'where.int.mode', /unsupported filter "mode" on Int field int/)
    shapeError(whereOf(all(), { strs: { contains: 'a' } }), 'where.strs.contains', /unsupported filter "contains" on String\[\] field strs; supported: equals, has, hasEvery, hasSome, isEmpty/)
    shapeError(whereOf(all(), { strs: { has: 'a', isEmpty: false } }), 'where.strs', /exactly one of equals, has/)
    shapeError(whereOf(all(), { strs: {} }), 'where.strs', /exactly one of/)
    shapeError(whereOf(all(), { strs: ['a'] }), 'where.strs', /expected a list filter/)
    shapeError(whereOf(todo(), { title: { not: { contains: 'a', mode: 'insensitive' } } }), 'where.title.not.mode', /next to not/)
    shapeError(whereOf(todo(), { title: { not: { not: { mode: 'insensitive' } } } }), 'where.title.not.not.mode', /next to not/)
    shapeError(whereOf(todo(), { title: { equals: 'a', mode: 'INSENSITIVE' } }), 'where.title.mode', /'default' or 'insensitive'/)
    shapeError(whereOf(todo(), { id: { equals: id, mode: 'insensitive' } }), 'where.id.mode', /not supported on uuid/)
  })

  it('relation filters', () => {
    shapeError(whereOf(db.prisma.issue, { project: { is: { name: 'p' } } }), 'where.project.is', /relation filters .* not supported in shapes.*filter on projectId instead/)
    shapeError(whereOf(db.prisma.issue, { project: { name: 'p' } }), 'where.project.name', /relation filters/)
    shapeError(whereOf(db.prisma.issue, { project: null }), 'where.project', /relation filters/)
    shapeError(whereOf(db.prisma.project, { AND: [{ issues: { some: { title: 'x' } } }] }), 'where.AND[0].issues.some', /relation filters \(some, every, none, is, isNot\)/)
    shapeError(whereOf(db.prisma.project, { members: { none: {} } }), 'where.members.none', /relation filters/)
  })

  it('Json filters and full-text search', () => {
    shapeError(whereOf(all(), { json: { path: ['a'], equals: 1 } }), 'where.json.path', /Json fields .* not supported in shapes/)
    shapeError(whereOf(all(), { json: { string_contains: 'a' } }), 'where.json.string_contains', /Json fields/)
    shapeError(whereOf(all(), { json: { equals: Prisma.DbNull } }), 'where.json.equals', /Json fields/)
    shapeError(whereOf(todo(), { title: { search: 'cat & dog' } }), 'where.title.search', /full-text search is not supported in shapes/)
  })

  it('values of the wrong type', () => {
    shapeError(whereOf(all(), { int: { equals: '1' } }), 'where.int.equals', /expected an integer, got a string/)
    shapeError(whereOf(all(), { int: 1.5 }), 'where.int', /expected an integer, got the number 1.5/)
    shapeError(whereOf(all(), { int: Number.NaN }), 'where.int', /expected an integer, got the number NaN/)
    shapeError(whereOf(all(), { int: 3e9 }), 'where.int', /3000000000 is out of range for int4/)
    shapeError(whereOf(all(), { float: { gt: Number.NaN } }), 'where.float.gt', /NaN is not a finite number/)
    shapeError(whereOf(all(), { float: Infinity }), 'where.float', /Infinity is not a finite number/)
    shapeError(whereOf(all(), { big: 2 ** 60 }), 'where.big', /not a safe integer; pass it as a bigint/)
    shapeError(whereOf(all(), { big: 2n ** 63n }), 'where.big', /out of range for int8/)
    shapeError(whereOf(all(), { big: 1.5 }), 'where.big', /expected a bigint or an integer number/)
    shapeError(whereOf(all(), { dec: 'abc' }), 'where.dec', /"abc" is not a decimal number/)
    shapeError(whereOf(all(), { dec: Number.NaN }), 'where.dec', /NaN is not a finite number/)
    shapeError(whereOf(all(), { dec: new Prisma.Decimal(Infinity) }), 'where.dec', /Infinity is not a finite number/)
    shapeError(whereOf(todo(), { id: 'not-a-uuid' }), 'where.id', /"not-a-uuid" is not a uuid/)
    shapeError(whereOf(todo(), { id: { in: [id, `${id}0`] } }), 'where.id.in[1]', /is not a uuid/)
    shapeError(whereOf(all(), { status: 'bogus' }), 'where.status', /"bogus" is not a value of enum IssueStatus \(open, in_progress, done\)/)
    shapeError(whereOf(all(), { status: 'in progress' }), 'where.status', /not a value of enum IssueStatus/)
    shapeError(whereOf(todo(), { completed: 'true' }), 'where.completed', /expected a boolean, got a string/)
    shapeError(whereOf(todo(), { createdAt: new Date(Number.NaN) }), 'where.createdAt', /invalid Date/)
    shapeError(whereOf(todo(), { createdAt: { gt: '2024-01-01' } }), 'where.createdAt.gt', /not an ISO-8601 date-time with a time zone/)
    shapeError(whereOf(todo(), { createdAt: '2024-02-30T00:00:00Z' }), 'where.createdAt', /not an ISO-8601 date-time/)
    shapeError(whereOf(all(), { bytes: 'AQI=' }), 'where.bytes', /expected a Uint8Array, got a string/)
    shapeError(whereOf(todo(), { title: 'a\u0000b' }), 'where.title', /NUL/)
    shapeError(whereOf(todo(), { title: { contains: 1 } }), 'where.title.contains', /expected a string, got the number 1/)
    shapeError(whereOf(all(), { int: { gt: db.prisma.allTypes.fields.int } }), 'where.int.gt', /field references .* not supported/)
    shapeError(whereOf(all(), { ints: { has: '1' } }), 'where.ints.has', /expected an integer/)
    shapeError(whereOf(all(), { strs: { hasEvery: ['a', null] } }), 'where.strs.hasEvery[1]', /got null/)
  })

  it('null where Prisma does not take it', () => {
    shapeError(whereOf(todo(), { title: null }), 'where.title', /must not be null: title is a required field/)
    shapeError(whereOf(todo(), { title: { not: null } }), 'where.title.not', /required field/)
    shapeError(whereOf(todo(), { title: { in: null } }), 'where.title.in', /required field/)
    shapeError(whereOf(all(), { int: { lt: null } }), 'where.int.lt', /expected an integer, got null/)
    shapeError(whereOf(all(), { int: { in: [1, null] } }), 'where.int.in[1]', /got null/)
    shapeError(whereOf(db.prisma.membership, { userId_projectId: { userId: 'u' } }), 'where.userId_projectId.projectId', /expected a uuid string/)
    shapeError(whereOf(db.prisma.membership, { userId_projectId: { userId: 'u', projectId: id, role: 'x' } }), 'where.userId_projectId.role', /not a field of the primary key/)
  })

  it('an empty in list', () => {
    shapeError(whereOf(todo(), { title: { in: [] } }), 'where.title.in', /empty list matches no rows/)
    shapeError(whereOf(todo(), { OR: [{ title: 'a' }, { title: { not: { notIn: [] } } }] }), 'where.OR[1].title.not.notIn', /empty list/)
    shapeError(whereOf(todo(), { title: { in: 'a' } }), 'where.title.in', /expected a list of a string, got a string/)
  })

  it('malformed where objects and options', () => {
    shapeError(whereOf(todo(), 'title = 1'), 'where', /expected a where object, got a string/)
    shapeError(whereOf(todo(), [{ title: 'a' }]), 'where', /expected a where object, got an array/)
    shapeError(whereOf(todo(), { OR: ['x'] }), 'where.OR[0]', /expected a where object/)
    shapeError(whereOf(todo(), { AND: [{ title: 'a' }, null] }), 'where.AND[1]', /expected a where object, got null/)
    shapeError(compile(todo(), { orderBy: { title: 'asc' } }), 'orderBy', /not supported in shapes/)
    shapeError(compile(todo(), { include: {} }), 'include', /not supported in shapes/)
    shapeError(compile(todo(), { replica: 'partial' }), 'replica', /'default' or 'full'/)
  })

  it('a select that drops the key, selects nothing or selects a relation', () => {
    shapeError(compile(todo(), { select: { id: false, title: true } }), 'select.id', /part of the primary key/)
    shapeError(compile(db.prisma.membership, { select: { projectId: false } }), 'select.projectId', /primary key/)
    shapeError(compile(todo(), { select: { title: false, completed: false } }), 'select', /selects no field/)
    shapeError(compile(todo(), { select: {} }), 'select', /selects no field/)
    shapeError(compile(db.prisma.issue, { select: { title: true, project: true } }), 'select.project', /relations cannot be selected/)
    shapeError(compile(db.prisma.project, { select: { _count: true } }), 'select._count', /unknown field/)
    shapeError(compile(todo(), { select: { titel: true } }), 'select.titel', /unknown field "titel" on model Todo/)
    shapeError(compile(todo(), { select: { title: 1 } }), 'select.title', /expected true or false/)
    shapeError(compile(todo(), { select: ['title'] }), 'select', /expected an object/)
  })
})

describe('no client value is ever SQL text', () => {
  const hostile = [
    `'; DROP TABLE todos; --`, `" OR 1=1 --`, `"is_completed"`, '$1', '$$', `\\'`, ')', '/*', '*/', 'E\'\\x27\'',
    `'{}'`, 'AND', 'NULL', 'lower(', '::text', ';', '\u2019', '"; DELETE FROM todos; --', 'x\'); SELECT pg_sleep(1); --',
  ]
  const neverInSql = hostile.filter((h) => /;|--|\/\*|\*\/|'/.test(h) && h !== `'{}'`)
  const text = fc.oneof(fc.constantFrom(...hostile), fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes('\0')))
  const fields: FieldSpec[] = [
    { kind: 'scalar', name: 'title', value: text, nullable: false, ops: stringOps, mode: true, weight: 3 },
    { kind: 'scalar', name: 'ownerId', value: text, nullable: false, ops: stringOps, mode: true },
    { kind: 'scalar', name: 'completed', value: fc.boolean(), nullable: false, ops: ['equals'] },
    { kind: 'scalar', name: 'createdAt', value: fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(2 ** 42) }), nullable: false, ops: comparable },
  ]
  const columns = new Set(['"id"', '"title"', '"is_completed"', '"owner_id"', '"created_at"'])
  // Everything a compiled where may contain: model identifiers, placeholders, casts, keywords, operators.
  const token = /\s+|"(?:[^"]|"")*"|\$\d+|::(?:[a-z0-9_]+|"(?:[^"]|"")*")(?:\[\])?|\b(?:AND|OR|NOT|IS|NULL|LIKE|ILIKE|ANY|ALL|IN|lower|false)\b|<>|<=|>=|@>|&&|[=<>(),]|'\{\}'/y

  it(`compiled SQL has only identifiers from the model, placeholders and keywords (${runSettings().numRuns} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(whereArbitrary(fields, 2), async (input) => {
        const { definition } = compileShape(db.prisma.todo, { where: input })
        const sql = definition.where ?? ''
        for (let i = 0; i < sql.length;) {
          token.lastIndex = i
          const match = token.exec(sql)
          expect(match, `unexpected SQL at ${i}: ${sql.slice(i)}`).not.toBeNull()
          if (match![0].startsWith('"')) expect(columns).toContain(match![0])
          i = token.lastIndex
        }
        for (const value of neverInSql) expect(sql).not.toContain(value)
        await db.sql(`SELECT count(*) FROM todos${sql ? ` WHERE ${sql}` : ''}`, definition.params)
      }),
      runSettings(),
    )
    expect((await db.sql(`SELECT to_regclass('todos') AS t`))[0].t).toBe('todos')
  })
})
