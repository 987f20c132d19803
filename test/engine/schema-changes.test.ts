// Table changes made while shapes are live: a reader's rows equal the shape's query afterwards, on
// every Postgres major (issue 11: enum labels added, generated columns, a table dropped and recreated).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, pgMajor, type TestDatabase } from '../support/db.js'
import { LiveReader, shapeOf, startEngine } from '../support/engine.js'
import { waitFor } from '../support/until.js'
import type { EmbeddedEngine } from '../../src/engine/index.js'
import type { ShapeDefinition } from '../../src/shape/definition.js'
import { isChangeMessage } from '../../src/source/messages.js'

let db: TestDatabase
/** Checks the catalog only when a shape is created (the periodic check is off). */
let engine: EmbeddedEngine
/** Also re-reads the catalog of its tables every 100 ms. */
let watching: EmbeddedEngine
beforeAll(async () => {
  db = await createTestDatabase()
  engine = await startEngine(db.url, { liveTimeoutMs: 200, catalogCheckMs: 3_600_000 })
  watching = await startEngine(db.url, { liveTimeoutMs: 200, catalogCheckMs: 100 })
})
afterAll(async () => {
  await engine?.close()
  await watching?.close()
  await db?.drop()
})

const readers: LiveReader[] = []
function read(on: EmbeddedEngine, definition: ShapeDefinition): LiveReader {
  const reader = new LiveReader(on, definition)
  readers.push(reader)
  return reader
}

const settle = async (on: EmbeddedEngine, reader: LiveReader): Promise<void> => reader.reached(await on.flush())
const sortedRows = (reader: LiveReader) =>
  [...reader.state.rows.values()].sort((a, b) => Number(a.id) - Number(b.id))
const refetched = (reader: LiveReader) =>
  reader.items.some((i) => !isChangeMessage(i.message) && i.message.headers.control === 'must-refetch')

/** The shape's query, with every column as Postgres text (as the log carries values). */
async function query(table: string, columns: string[], where?: string): Promise<Record<string, string | null>[]> {
  const select = columns.map((c) => `${c}::text AS ${c}`).join(', ')
  return db.sql(`SELECT ${select} FROM ${table}${where ? ` WHERE ${where}` : ''} ORDER BY id`)
}

describe('ALTER TYPE ... ADD VALUE after shapes exist', () => {
  it('routes rows with the new label and compiles new shapes with it, including its sort position', async () => {
    await db.sql(`CREATE TYPE mood AS ENUM ('b', 'c', 'd')`)
    await db.sql(`CREATE TABLE moods (id int PRIMARY KEY, status mood NOT NULL, history mood[])`)
    await db.sql(`INSERT INTO moods VALUES (1, 'b', '{b}'), (2, 'c', '{c}'), (3, 'd', '{d}')`)
    const wheres = [`status <> 'd'`, `status < 'c'`, `status > 'b'`]
    const before = wheres.map((where) => ({ where, reader: read(engine, shapeOf('moods', { where })) }))
    await Promise.all(before.map(({ reader }) => reader.nextUpToDate()))

    // 'a' sorts before every other label; 'bb' between b and c. Neither is in the shapes' compiled where.
    await db.sql(`ALTER TYPE mood ADD VALUE 'a' BEFORE 'b'`)
    await db.sql(`ALTER TYPE mood ADD VALUE 'bb' AFTER 'b'`)
    await db.sql(`INSERT INTO moods VALUES (4, 'a', '{a}'), (5, 'bb', '{bb,a}')`)
    await db.sql(`UPDATE moods SET status = 'a' WHERE id = 3`)
    const after = [`status = 'bb'`, `status > 'a'`, `status < 'b'`, `'a' = ANY(history)`]
      .map((where) => ({ where, reader: read(engine, shapeOf('moods', { where })) }))
    await Promise.all(after.map(({ reader }) => reader.nextUpToDate()))
    await db.sql(`INSERT INTO moods VALUES (6, 'bb', '{a}'), (7, 'a', NULL)`)
    await db.sql(`UPDATE moods SET status = 'bb' WHERE id = 1`)

    for (const { where, reader } of [...before, ...after]) {
      await settle(engine, reader)
      expect({ where, rows: sortedRows(reader) }).toEqual({ where, rows: await query('moods', ['id', 'status', 'history'], where) })
    }
    // The shapes made before the new labels were rebuilt on them.
    expect(before.every(({ reader }) => refetched(reader))).toBe(true)
  })
})

describe('generated columns', () => {
  it('a shape that does not use the generated column follows the table without rotating', async () => {
    await db.sql(`CREATE TABLE priced (id int PRIMARY KEY, qty int NOT NULL, price int NOT NULL,
      total int GENERATED ALWAYS AS (qty * price) STORED)`)
    await db.sql(`INSERT INTO priced (id, qty, price) VALUES (1, 2, 3)`)
    const reader = read(engine, shapeOf('priced', { columns: ['id', 'qty', 'price'], where: 'qty > 1' }))
    await reader.nextUpToDate()
    await db.sql(`INSERT INTO priced (id, qty, price) VALUES (2, 5, 7), (3, 1, 1)`)
    await db.sql(`UPDATE priced SET qty = 9 WHERE id = 1`)
    await settle(engine, reader)
    expect(sortedRows(reader)).toEqual(await query('priced', ['id', 'qty', 'price'], 'qty > 1'))
    expect(refetched(reader)).toBe(false) // the Relation message lacks nothing this shape needs
  })

  it('Postgres 18 sends stored generated columns; older servers refuse shapes that use them, naming the column', async () => {
    if (pgMajor() >= 18) {
      const all = read(engine, shapeOf('priced'))
      const filtered = read(engine, shapeOf('priced', { where: 'total > 20' }))
      await Promise.all([all.nextUpToDate(), filtered.nextUpToDate()])
      await db.sql(`INSERT INTO priced (id, qty, price) VALUES (4, 3, 10)`)
      await db.sql(`UPDATE priced SET price = 1 WHERE id = 2`)
      await settle(engine, all)
      await settle(engine, filtered)
      expect(sortedRows(all)).toEqual(await query('priced', ['id', 'qty', 'price', 'total']))
      expect(sortedRows(filtered)).toEqual(await query('priced', ['id', 'qty', 'price', 'total'], 'total > 20'))
      expect(sortedRows(all).find((r) => r.id === '4')!.total).toBe('30')
      // Virtual generated columns (new in 18) are never replicated.
      await db.sql(`CREATE TABLE doubled (id int PRIMARY KEY, n int, twice int GENERATED ALWAYS AS (n * 2) VIRTUAL)`)
      await expect(engine.fetch(shapeOf('doubled'), { offset: '-1' })).rejects.toThrow(/"twice" is a generated column.*STORED/)
      expect((await engine.fetch(shapeOf('doubled', { columns: ['id', 'n'] }), { offset: '-1' })).status).toBe('ok')
    } else {
      await expect(engine.fetch(shapeOf('priced'), { offset: '-1' }))
        .rejects.toThrow(/"total" is a generated column.*select the other columns.*Postgres 18/)
      await expect(engine.fetch(shapeOf('priced', { columns: ['id', 'qty'], where: 'total > 20' }), { offset: '-1' }))
        .rejects.toThrow(/"total" is a generated column.*filter on the other columns/)
      expect((await engine.fetch(shapeOf('priced', { columns: ['id', 'price'] }), { offset: '-1' })).status).toBe('ok')
    }
  })
})

describe('DROP TABLE and CREATE TABLE with the same name', () => {
  it('answers a subset request on a table dropped under its shape with must-refetch, not a 400', async () => {
    await db.sql(`CREATE TABLE subset_gone (id int PRIMARY KEY, name text)`)
    await db.sql(`INSERT INTO subset_gone VALUES (1, 'a')`)
    const shape = shapeOf('subset_gone')
    const first = await engine.fetch(shape, { offset: '-1' })
    expect(first.status).toBe('ok')
    await db.sql(`DROP TABLE subset_gone`) // this engine's catalog check is off: only the query finds out
    const answer = await engine.subset(shape, { handle: (first as { handle: string }).handle, where: 'id > $1', params: ['0'] })
    expect(answer.status).toBe('must-refetch')
  })

  it('a periodic catalog check rotates the shapes of a table recreated while nothing is written to it', async () => {
    await db.sql(`CREATE TABLE recreated (id int PRIMARY KEY, name text)`)
    await db.sql(`INSERT INTO recreated VALUES (1, 'old'), (2, 'old')`)
    const reader = read(watching, shapeOf('recreated'))
    await reader.nextUpToDate()
    await new Promise((r) => setTimeout(r, 500)) // a few checks pass first, knowing the table as it is
    // In one round trip, so no check runs between them: the check sees a table alike but for its OID.
    await db.sql(`DROP TABLE recreated; CREATE TABLE recreated (id int PRIMARY KEY, name text); INSERT INTO recreated VALUES (10, 'new')`)
    await waitFor(() => sortedRows(reader).length === 1, 'the reader to hold the new table’s rows', 10_000)
    expect(sortedRows(reader)).toEqual(await query('recreated', ['id', 'name']))
    await db.sql(`INSERT INTO recreated VALUES (11, 'newer')`)
    await settle(watching, reader)
    expect(sortedRows(reader)).toEqual(await query('recreated', ['id', 'name']))
  })

  it('the periodic check also rotates the shapes of a table altered while nothing is written to it', async () => {
    await db.sql(`CREATE TABLE widened (id int PRIMARY KEY)`)
    await db.sql(`INSERT INTO widened VALUES (1), (2)`)
    const reader = read(watching, shapeOf('widened'))
    await reader.nextUpToDate()
    await db.sql(`ALTER TABLE widened ADD COLUMN size int NOT NULL DEFAULT 7`)
    await waitFor(() => sortedRows(reader)[0]?.size === '7', 'the reader to see the added column', 10_000)
    expect(sortedRows(reader)).toEqual(await query('widened', ['id', 'size']))
  })

  it('a new shape of the recreated table rotates the old ones, and both follow the new table', async () => {
    await db.sql(`CREATE TABLE renewed (id int PRIMARY KEY, name text)`)
    await db.sql(`INSERT INTO renewed VALUES (1, 'old')`)
    const old = read(engine, shapeOf('renewed'))
    await old.nextUpToDate()
    await db.sql(`BEGIN; DROP TABLE renewed; CREATE TABLE renewed (id int PRIMARY KEY, name text); INSERT INTO renewed VALUES (5, 'new'); COMMIT`)
    const fresh = read(engine, shapeOf('renewed', { where: `name <> 'x'` }))
    await fresh.nextUpToDate()
    await db.sql(`INSERT INTO renewed VALUES (6, 'newer')`)
    await settle(engine, fresh)
    await waitFor(() => refetched(old), 'the old shape to rotate', 10_000)
    await settle(engine, old)
    expect(sortedRows(old)).toEqual(await query('renewed', ['id', 'name']))
    expect(sortedRows(fresh)).toEqual(await query('renewed', ['id', 'name']))
  })

  it('while the table is missing, a client with a handle gets must-refetch with a new handle, never an error', async () => {
    await db.sql(`CREATE TABLE vanishing (id int PRIMARY KEY)`)
    await db.sql(`INSERT INTO vanishing VALUES (1)`)
    const definition = shapeOf('vanishing')
    const first = await watching.fetch(definition, { offset: '-1' })
    if (first.status !== 'ok') throw new Error('expected the snapshot')
    await db.sql(`DROP TABLE vanishing`)
    const gone = await watching.fetch(definition, { offset: first.offset, handle: first.handle, live: true })
    expect(gone.status).toBe('must-refetch')
    expect(gone.handle).not.toBe(first.handle)
    // Electric drops the handle at offset -1: the refetch carries none, and still gets must-refetch.
    const again = await watching.fetch(definition, { offset: '-1' })
    expect(again.status).toBe('must-refetch')
    // A table that never had shapes is simply missing: the 400 that names it.
    await expect(watching.fetch(shapeOf('never_there'), { offset: '-1' })).rejects.toThrow(/"never_there" does not exist/)
    await db.sql(`CREATE TABLE vanishing (id int PRIMARY KEY)`)
    await db.sql(`INSERT INTO vanishing VALUES (2)`)
    const back = await watching.fetch(definition, { offset: '-1', handle: again.handle })
    const handle = back.status === 'must-refetch' ? back.handle : again.handle
    const rows = await watching.fetch(definition, { offset: '-1', handle })
    expect(rows.status === 'ok' && rows.messages.filter(isChangeMessage).map((m) => m.value)).toEqual([{ id: '2' }])
  })
})

afterAll(async () => {
  await Promise.all(readers.map((r) => r.stop()))
})
