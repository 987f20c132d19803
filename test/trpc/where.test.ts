// sync.where: the zod schema of the client filters a server allows. Accepted filters narrow the
// server's own shape to exactly what findMany returns; anything outside the allowed fields and
// operators is refused, naming what was refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/prisma/client.js'
import { createSync, WhereFilterError, type Sync } from '../../src/index.js'
import { LimitError } from '../../src/limits/index.js'
import { whereSchema } from '../../src/trpc/where.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { byId, until } from './support.js'
import { randomBytes } from 'node:crypto'

let db: TestDatabase
let sync: Sync
beforeAll(async () => {
  db = await createTestDatabase()
  sync = createSync({ prisma: db.prisma, databaseUrl: db.url, engine: { slotName: `t_${randomBytes(5).toString('hex')}`, temporarySlot: true } })
})
afterAll(async () => {
  await sync?.close()
  await db?.drop()
})

describe('sync.where', () => {
  it('accepts the allowed fields and operators, and narrows the shape as findMany does', async () => {
    await db.prisma.allTypes.createMany({
      data: [
        { str: 'Apple', int: 1, big: 10n, float: 0.5, dec: new Prisma.Decimal('1.25'), date: new Date('2024-01-01T00:00:00Z'), status: 'open', strs: [], ints: [] },
        { str: 'banana', int: 5, big: 20n, float: 2.5, dec: new Prisma.Decimal('9.75'), date: new Date('2024-06-01T00:00:00Z'), status: 'done', strs: [], ints: [] },
        { str: null, int: null, status: 'in_progress', strs: [], ints: [] },
      ],
    })
    const filter = sync.where(db.prisma.allTypes, { fields: ['str', 'int', 'big', 'float', 'dec', 'date', 'status', 'bool'] })
    const wheres = [
      { str: { startsWith: 'a', mode: 'insensitive' as const } },
      { str: null },
      { str: { not: null } },
      { int: { gte: 2 }, status: { in: ['done' as const, 'open' as const] } },
      { OR: [{ big: { lt: 15n } }, { dec: { gt: new Prisma.Decimal('5') } }] },
      { NOT: [{ float: { lte: 1 } }], date: { gt: new Date('2023-12-31T00:00:00Z') } },
      { AND: { status: { not: { equals: 'done' as const } } } },
      { date: { lt: '2024-03-01T00:00:00Z' } },
    ]
    for (const where of wheres) {
      const parsed = filter.parse(where)
      const live = sync.live(sync.shape(db.prisma.allTypes, { where: { AND: [{ strs: { isEmpty: true } }, parsed] } }))
      await live.ready
      expect(byId(live.toArray())).toEqual(byId(await db.prisma.allTypes.findMany({ where: { AND: [{ strs: { isEmpty: true } }, where] } })))
      live.close()
    }
  })

  it('refuses other fields and operators, naming them', () => {
    const filter = sync.where(db.prisma.todo, { fields: ['completed', 'title'], operators: ['equals', 'contains', 'OR'] })
    const refusals: [unknown, string][] = [
      [{ ownerId: 'x' }, '"ownerId"'],
      [{ title: { startsWith: 'x' } }, '"startsWith"'],
      [{ AND: [{ completed: true }] }, '"AND"'],
      [{ OR: [{ title: { mode: 'insensitive', contains: 'x' } }] }, '"mode"'],
      [{ title: { in: ['a'] } }, '"in"'],
      [{ completed: 'yes' }, 'completed'],
      [{ title: 5 }, 'title'],
      ['completed = true', 'object'],
    ]
    for (const [input, named] of refusals) {
      expect(() => filter.parse(input), JSON.stringify(input)).toThrow(WhereFilterError)
      expect(() => filter.parse(input)).toThrow(named)
    }
    // The message is a sentence naming the path, not the JSON of zod's issue list.
    expect(() => filter.parse({ OR: [{ completed: true }, { ownerId: 'x' }] })).toThrow('invalid filter: OR[1]: not allowed in this filter: "ownerId"')
    expect(filter.parse({ OR: [{ title: { contains: 'x' } }, { completed: false }] })).toEqual({ OR: [{ title: { contains: 'x' } }, { completed: false }] })
  })

  it('checks values: uuid text, Int range, non-empty in lists, no null for required fields', () => {
    const filter = sync.where(db.prisma.todo, { fields: ['id', 'completed'] })
    expect(() => filter.parse({ id: 'not-a-uuid' })).toThrow('id: expected a uuid')
    expect(() => filter.parse({ id: { contains: '0000' } })).toThrow(WhereFilterError) // no LIKE on uuid
    expect(() => filter.parse({ id: { in: [] } })).toThrow(WhereFilterError)
    expect(() => filter.parse({ completed: null })).toThrow(WhereFilterError)
    expect(filter.parse({ id: '00000000-0000-0000-0000-000000000001' })).toEqual({ id: '00000000-0000-0000-0000-000000000001' })
    const ints = sync.where(db.prisma.issue, { fields: ['priority', 'description'] })
    expect(() => ints.parse({ priority: 2 ** 31 })).toThrow(WhereFilterError)
    expect(() => ints.parse({ priority: 1.5 })).toThrow(WhereFilterError)
    expect(ints.parse({ description: null, priority: { notIn: [1, 2] } })).toEqual({ description: null, priority: { notIn: [1, 2] } })
  })

  it('refuses at definition time what a client filter cannot be', () => {
    expect(() => sync.where(db.prisma.issue, { fields: ['project' as 'title'] })).toThrow(/relation/)
    expect(() => sync.where(db.prisma.allTypes, { fields: ['json'] })).toThrow(/Json field "json"/)
    expect(() => sync.where(db.prisma.allTypes, { fields: ['strs'] })).toThrow(/list field "strs"/)
    expect(() => sync.where(db.prisma.todo, { fields: ['nope' as 'title'] })).toThrow(/no field "nope"/)
    expect(() => sync.where(db.prisma.todo, { fields: ['title'], operators: ['search' as 'equals'] })).toThrow(/unknown operator "search"/)
  })

  it('narrows but never widens: the server ANDs its own constraint', async () => {
    await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'mine', 'me'), (gen_random_uuid(), 'theirs', 'them')`)
    const filter = sync.where(db.prisma.todo, { fields: ['title'] })
    const where = filter.parse({ OR: [{ title: 'mine' }, { title: 'theirs' }] })
    const live = sync.live(sync.shape(db.prisma.todo, { where: { AND: [{ ownerId: 'me' }, where] } }))
    await live.ready
    await until(() => live.rows.size > 0, 'rows')
    expect(live.toArray().map((r) => r.title)).toEqual(['mine'])
    live.close()
  })

  it('takes the where limits from createSync({ limits }); a standalone whereSchema uses the defaults', async () => {
    const strict = createSync({ prisma: db.prisma, mode: 'custom', source: () => Promise.reject(new Error('unused')), limits: { whereConditions: 2, inValues: 3, whereDepth: 3, whereBytes: 64 } })
    const filter = strict.where(db.prisma.todo, { fields: ['completed', 'title'] })
    const refusedWith = (input: unknown, limit: string) => {
      let error: unknown
      try { filter.parse(input) } catch (caught) { error = caught }
      expect(error, JSON.stringify(input)).toBeInstanceOf(LimitError)
      expect((error as LimitError).field).toBe(limit)
    }
    refusedWith({ OR: [{ title: 'a' }, { title: 'b' }, { title: 'c' }] }, 'whereConditions')
    refusedWith({ title: { in: ['a', 'b', 'c', 'd'] } }, 'inValues')
    refusedWith({ AND: [{ NOT: { title: 'a' } }] }, 'whereDepth')
    refusedWith({ title: 'x'.repeat(64) }, 'whereBytes')
    expect(filter.parse({ title: { in: ['a', 'b', 'c'] }, completed: true })).toEqual({ title: { in: ['a', 'b', 'c'] }, completed: true })
    expect(filter.parse({ title: { not: 'a', mode: 'insensitive' } })).toEqual({ title: { not: 'a', mode: 'insensitive' } }) // mode is no condition
    // whereBytes is the input's JSON text, to the byte.
    for (const input of [{ title: 'a"\\\n\u0001é' }, { OR: [{ title: 'x' }, { completed: true, title: undefined }], completed: false }, { title: { in: ['a', 'b'], mode: 'insensitive' } }]) {
      const bytes = Buffer.byteLength(JSON.stringify(input))
      const exact = createSync({ mode: 'custom', source: () => Promise.reject(new Error('unused')), limits: { whereBytes: bytes } }).where(db.prisma.todo, { fields: ['completed', 'title'] })
      const under = createSync({ mode: 'custom', source: () => Promise.reject(new Error('unused')), limits: { whereBytes: bytes - 1 } }).where(db.prisma.todo, { fields: ['completed', 'title'] })
      expect(() => exact.parse(input), JSON.stringify(input)).not.toThrow()
      expect(() => under.parse(input), JSON.stringify(input)).toThrow(/limit whereBytes/)
    }
    const standalone = whereSchema(db.prisma.todo, { fields: ['title'] })
    expect(() => standalone.parse({ OR: Array.from({ length: 256 }, () => ({ title: 'a' })) })).not.toThrow()
    expect(() => standalone.parse({ OR: Array.from({ length: 257 }, () => ({ title: 'a' })) })).toThrow(/limit whereConditions: 256/)
    await strict.close()
  })

  it('takes Dates, bigints and Decimals only where their fields are, and never reads a non-JSON value as {}', () => {
    const filter = sync.where(db.prisma.allTypes, { fields: ['str', 'date', 'big', 'dec', 'int'] })
    const date = new Date('2024-01-01T00:00:00Z')
    expect(filter.parse({ date: { gt: date }, big: 5n, dec: { lt: new Prisma.Decimal('1.5') } })).toEqual({ date: { gt: date }, big: 5n, dec: { lt: new Prisma.Decimal('1.5') } })
    const refusals: [unknown, string][] = [
      [{ str: date }, 'str: expected a string or a filter object, got a Date'],
      [{ int: new Prisma.Decimal(1) }, 'int: expected an integer or a filter object, got a Decimal'],
      [{ date: { not: new Map() } }, 'date.not: expected a plain JSON value, got a Map'],
      [{ str: { equals: new Date(Number.NaN) } }, 'str.equals: invalid Date'],
      [{ int: Number.POSITIVE_INFINITY }, 'int: Infinity is not a finite number'],
      [{ str: { contains: Symbol('x') } }, 'str.contains: expected a JSON value, got a symbol'],
      [{ OR: [new (class Filter { str = 'x' })()] }, 'OR[0]: expected a plain JSON value, got a Filter'],
      [Object.assign(Object.create({ str: 'x' }), {}), '"__proto__" is not allowed as a key'],
      [[{ str: 'x' }], 'expected a where object, got an array'],
    ]
    for (const [input, message] of refusals) {
      expect(() => filter.parse(input), message).toThrow(WhereFilterError)
      expect(() => filter.parse(input)).toThrow(message)
    }
  })
})
