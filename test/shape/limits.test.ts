// Where limits on server-built shapes (sync.shape with a where that server code may have taken from a
// client unvalidated) and keyword shapes: each bound answers a LimitError naming it as soon as it is
// exceeded, so the walk's cost is bounded by the limit; nothing overflows the stack (a 60,000-value
// insensitive `in` at raised limits compiles and Postgres returns the rows it means); non-JSON values
// and prototype keys are ShapeErrors naming the path, never an empty (wider) filter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultLimits, LimitError, resolveLimits } from '../../src/limits/index.js'
import { compileShape, ShapeError } from '../../src/shape/index.js'
import { keywordShape } from '../../src/shape/keyword.js'
import { compileWhere, WhereError } from '../../src/where/index.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

function limitError(run: () => unknown, limit: string): LimitError {
  let error: unknown
  try {
    run()
  } catch (caught) {
    error = caught
  }
  expect(error, `expected a LimitError ${limit}`).toBeInstanceOf(LimitError)
  expect((error as LimitError).field).toBe(limit)
  expect((error as LimitError).message).toContain(`limit ${limit}: `)
  return error as LimitError
}

const compile = (where: unknown, limits = defaultLimits) => () => compileShape(db.prisma.todo, { where: where as never }, limits)

describe('compileShape: where limits', () => {
  it('compiles a 60,000-value insensitive in at raised limits (was a stack overflow), with the rows of the query', async () => {
    await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'T59999', 'u'), (gen_random_uuid(), 't0', 'u'), (gen_random_uuid(), 'x', 'u')`)
    const values = Array.from({ length: 60_000 }, (_, i) => `t${i}`)
    const where = { title: { in: values, mode: 'insensitive' as const } }
    const { definition } = compileShape(db.prisma.todo, { where }, resolveLimits({ shapeParams: 65_535 }))
    expect(definition.params).toHaveLength(60_000)
    const rows = await db.sql(`SELECT title FROM todos WHERE ${definition.where} ORDER BY title`, definition.params)
    expect(rows.map((r) => r.title)).toEqual(['T59999', 't0'])
    expect(rows).toHaveLength((await db.prisma.todo.findMany({ where: { title: { in: ['t0', 't59999'], mode: 'insensitive' } } })).length)
    // The evaluator compiles it too (the engine routes changes with it).
    const columns = new Map([['title', { type: 'text', dims: 0 }]])
    expect(() => compileWhere(definition.where!, columns as never, definition.params)).not.toThrow()
    // At the defaults, shapeParams answers first, before any value is read.
    limitError(compile(where), 'shapeParams')
  })

  it('refuses 65,536 conditions with whereConditions, and a 2^30-leaf shared tree at once', () => {
    limitError(compile({ OR: Array.from({ length: 65_536 }, () => ({ title: '' })) }), 'whereConditions')
    // With conditions unbounded, the parameters stop it.
    limitError(compile({ OR: Array.from({ length: 65_536 }, () => ({ title: '' })) }, resolveLimits({ whereConditions: Infinity })), 'shapeParams')
    // Not even at shapeParams: Infinity can a shape take more than Postgres's bind message allows.
    const unbounded = resolveLimits({ whereConditions: Infinity, shapeParams: Infinity })
    expect(limitError(compile({ OR: Array.from({ length: 65_536 }, () => ({ title: '' })) }, unbounded), 'shapeParams').max).toBe(65_535)
    expect(compile({ OR: Array.from({ length: 65_535 }, () => ({ title: '' })) }, unbounded)().definition.params).toHaveLength(65_535)
    // Conditions without parameters (IS NULL) are counted too: 2^30 leaves would never finish.
    let shared: object = { description: null }
    for (let i = 0; i < 30; i++) shared = { AND: [shared, shared] }
    limitError(() => compileShape(db.prisma.issue, { where: shared }, resolveLimits({ whereDepth: 100 })), 'whereConditions')
  })

  it('refuses a where nested 10,000 levels deep with whereDepth (was a stack overflow)', () => {
    let deep: object = { title: 'x' }
    for (let i = 0; i < 10_000; i++) deep = { NOT: deep }
    limitError(compile(deep), 'whereDepth')
    let nots: object = { equals: 'x' }
    for (let i = 0; i < 10_000; i++) nots = { not: nots }
    limitError(compile({ title: nots }), 'whereDepth')
    // A where at the default depth compiles.
    let ok: object = { title: 'x' }
    for (let i = 0; i < 30; i++) ok = { NOT: ok }
    expect(compile(ok)().definition.where).toContain('NOT')
  })

  it('refuses non-JSON values and prototype keys, naming the path, instead of reading them as {}', () => {
    const refusals: [unknown, string][] = [
      [{ title: new Date() }, 'where.title'],
      [{ title: new Map([['contains', 'x']]) }, 'where.title'],
      [{ title: { in: new Set(['a']) } }, 'where.title.in'],
      [new Set([{ title: 'x' }]), 'where'],
      [{ AND: new Map() }, 'where.AND'],
      [{ NOT: [new Date()] }, 'where.NOT[0]'],
      [JSON.parse('{"__proto__": {"title": "x"}}'), 'where.__proto__'],
      [JSON.parse('{"title": {"__proto__": {"contains": "x"}}}'), 'where.title.__proto__'],
      [{ constructor: { title: 'x' } }, 'where.constructor'],
      [{ title: { prototype: 'x' } }, 'where.title.prototype'],
      [{ title: () => 'x' }, 'where.title'],
      [{ title: { in: [Number.NaN] } }, 'where.title.in[0]'],
    ]
    for (const [where, path] of refusals) {
      let error: unknown
      try {
        compile(where)()
      } catch (caught) {
        error = caught
      }
      expect(error, String(path)).toBeInstanceOf(ShapeError)
      expect((error as ShapeError).path).toBe(path)
    }
  })
})

describe('keyword shapes: where limits', () => {
  it('refuses a where clause over whereBytes and params over shapeParams', () => {
    limitError(() => keywordShape({ table: 'todos', where: `title = '${'x'.repeat(20_000)}'` }), 'whereBytes')
    limitError(() => keywordShape({ table: 'todos', where: 'title = $1', params: Array.from({ length: 10_001 }, () => 'x') }), 'shapeParams')
    const record = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [String(i + 1), 'x']))
    limitError(() => keywordShape({ table: 'todos', where: 'title = $1', params: record }, resolveLimits({ shapeParams: 4 })), 'shapeParams')
    expect(keywordShape({ table: 'todos', where: 'title = $1', params: ['x'] }).params).toEqual(['x'])
  })

  it('refuses a where clause nested thousands of levels deep before the evaluator recurses (was a stack overflow)', () => {
    const columns = new Map([['title', { type: 'text', dims: 0 }]]) as never
    expect(() => compileWhere(`${'NOT '.repeat(4000)}true`, columns)).toThrow(WhereError)
    expect(() => compileWhere(`${'NOT '.repeat(4000)}true`, columns)).toThrow(/nested too deeply/)
    expect(() => compileWhere(`${'('.repeat(4000)}true${')'.repeat(4000)}`, columns)).not.toThrow() // parentheses add no levels
    expect(() => compileWhere(`${'NOT '.repeat(100)}true`, columns)).not.toThrow()
  })
})
