// Errors classified once: a shape Postgres refuses is the client's error, answered once and never
// retried (the engine runs its query once); relations logical replication does not carry are refused
// when the shape is created, naming the relation and what is supported; only an unreachable source is
// retried, and only within a bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { shapeOf, startEngine } from '../support/engine.js'
import { errorResponse } from '../../src/http/response.js'
import { streamShape } from '../../src/source/stream.js'
import { classifyError } from '../../src/source/errors.js'
import { LimitError } from '../../src/limits/index.js'
import type { EmbeddedEngine } from '../../src/engine/index.js'
import type { ShapeDefinition } from '../../src/shape/definition.js'

let db: TestDatabase
let engine: EmbeddedEngine
const logs: string[] = []
beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql(`CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)`)
  await db.sql(`INSERT INTO items VALUES (1, 'one'), (2, 'abc')`)
  await db.sql(`CREATE VIEW items_view AS SELECT * FROM items`)
  await db.sql(`CREATE MATERIALIZED VIEW items_mat AS SELECT * FROM items`)
  await db.sql(`CREATE SEQUENCE items_seq`)
  await db.sql(`CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY)`)
  engine = await startEngine(db.url, { liveTimeoutMs: 100, log: (m) => logs.push(m) })
})
afterAll(async () => {
  await engine?.close()
  await db?.drop()
})

const refusals = () => logs.filter((m) => m.includes('Postgres refused its query')).length

/** Reads the shape to its end; the error it fails with. */
async function failure(definition: ShapeDefinition): Promise<unknown> {
  try {
    for await (const _ of streamShape(engine, definition, { live: false })) { /* rows */ }
  } catch (error) {
    return error
  }
  throw new Error('expected the shape to be refused')
}

describe('a shape Postgres refuses', () => {
  it('with 65,536 parameters (more than a bind message holds): refused once as the params, the query run once', async () => {
    const params = Array.from({ length: 65_536 }, (_, i) => String(i))
    const where = params.map((_, i) => `id = $${i + 1}`).join(' OR ')
    const before = refusals()
    const error = await failure(shapeOf('items', { where, params }))
    expect(error).toMatchObject({ field: 'params', message: expect.stringContaining('more parameters than Postgres accepts') })
    expect((error as Error).message).not.toMatch(/bind message/)
    expect(errorResponse(error).result.status).toBe(400)
    // A retry would run the query again within a few hundred ms; give it more than that.
    await new Promise((r) => setTimeout(r, 1500))
    expect(refusals() - before).toBe(1)
  })

  it('for a value its cast rejects: 400 in our words, Postgres\'s text only in the server log', async () => {
    const before = refusals()
    const error = await failure(shapeOf('items', { where: 'label::int > 0' }))
    expect(error).toMatchObject({ field: 'where', message: expect.stringContaining('not valid for its column type [SQLSTATE 22P02]') })
    const { result, requestId } = errorResponse(error)
    expect(result.status).toBe(400)
    expect(result.body).not.toMatch(/invalid input syntax|"one"|"abc"/)
    expect(JSON.parse(String(result.body)).requestId).toBe(requestId)
    expect(((error as Error).cause as Error).message).toMatch(/invalid input syntax for type integer/)
    await new Promise((r) => setTimeout(r, 1000))
    expect(refusals() - before).toBe(1)
    expect(logs.some((m) => m.includes('invalid input syntax for type integer'))).toBe(true)
  })
})

describe('relations logical replication does not carry', () => {
  const cases: [string, Partial<ShapeDefinition> & { table: string }, RegExp][] = [
    ['a system catalog', { namespace: 'pg_catalog', table: 'pg_class' }, /"pg_catalog"\."pg_class" is in the system schema/],
    ['information_schema', { namespace: 'information_schema', table: 'tables' }, /"information_schema"\."tables" is in the system schema/],
    ['pg_toast', { namespace: 'pg_toast', table: 'pg_toast_1255' }, /system schema "pg_toast"/],
    ['a view', { table: 'items_view' }, /"public"\."items_view" is a view, not a table/],
    ['a materialized view', { table: 'items_mat' }, /is a materialized view, not a table/],
    ['a sequence', { table: 'items_seq' }, /is a sequence, not a table/],
    ['an unlogged table', { table: 'scratch' }, /"public"\."scratch" is an unlogged table/],
  ]
  it.each(cases)('refuses %s at shape creation, naming it and what is supported (400)', async (_what, target, message) => {
    const error = await engine.fetch({ ...shapeOf(target.table), ...target }, { offset: '-1' }).then(() => undefined, (e: unknown) => e)
    expect(error).toMatchObject({ field: 'table', message: expect.stringMatching(message) })
    expect((error as Error).message).toMatch(/Only ordinary and partitioned tables/)
    expect(errorResponse(error).result.status).toBe(400)
  })

  it('refuses a temporary table (another session\'s pg_temp schema)', async () => {
    const client = await db.pool.connect()
    try {
      await client.query(`CREATE TEMP TABLE tmp_items (id int PRIMARY KEY)`)
      const { schema } = (await client.query<{ schema: string }>(`SELECT nspname AS schema FROM pg_namespace WHERE oid = pg_my_temp_schema()`)).rows[0]!
      const error = await engine.fetch({ ...shapeOf('tmp_items'), namespace: schema }, { offset: '-1' }).then(() => undefined, (e: unknown) => e)
      expect(error).toMatchObject({ field: 'table', message: expect.stringMatching(/system schema "pg_temp_\d+"/) })
    } finally {
      client.release()
    }
  })

  it('still serves ordinary tables', async () => {
    const result = await engine.fetch(shapeOf('items'), { offset: '-1' })
    expect(result.status).toBe('ok')
  })
})

describe('retries', () => {
  it('classifies once: the request\'s own errors, an unreachable source, anything else', () => {
    const pgError = (code: string) => Object.assign(new Error('x'), { code, severity: 'ERROR' })
    for (const code of ['08P01', '22P02', '22003', '42883', '54001', '0A000']) expect([code, classifyError(pgError(code))]).toEqual([code, 'request'])
    for (const code of ['08006', '08003', '08000', '57P01', '57P03', '53300', 'ECONNREFUSED']) expect([code, classifyError(pgError(code))]).toEqual([code, 'unavailable'])
    expect(classifyError(new Error('Connection terminated unexpectedly'))).toBe('unavailable')
    expect(classifyError(Object.assign(pgError('08P01'), { severity: 'FATAL' }))).toBe('unavailable')
    expect(classifyError(new LimitError('whereBytes', 10, 'too big'))).toBe('request')
    expect(errorResponse(new LimitError('whereBytes', 10, 'too big')).result.status).toBe(400)
    expect(errorResponse(new LimitError('shapes', 10, 'too many shapes', 429)).result.status).toBe(429)
    expect(classifyError(Object.assign(new Error('busy'), { code: 'P2002', name: 'PrismaClientKnownRequestError' }))).toBe('internal')
    expect(classifyError(new TypeError('bug'))).toBe('internal')
  })

  it('retries an unreachable source only within its bound, then fails with its error', async () => {
    const closed = await startEngine(db.url)
    await closed.close() // every fetch now fails as the database being unavailable
    const error = await (async () => {
      try {
        for await (const _ of streamShape(closed, shapeOf('items'), { retry: { maxRetries: 2 } })) { /* none */ }
      } catch (e) {
        return e
      }
    })()
    expect(error).toMatchObject({ field: 'database', message: expect.stringContaining('closed') })
  })
})
