import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { LiveReader, shapeOf, startEngine } from '../support/engine.js'
import type { EmbeddedEngine } from '../../src/engine/index.js'
import { isChangeMessage, type ChangeMessage } from '../../src/source/messages.js'

let db: TestDatabase
let engine: EmbeddedEngine
beforeAll(async () => {
  db = await createTestDatabase()
  engine = await startEngine(db.url, { liveTimeoutMs: 200 })
})
afterAll(async () => {
  await engine?.close()
  await db?.drop()
})

const changes = (reader: LiveReader) =>
  reader.items.map((i) => i.message).filter(isChangeMessage) as ChangeMessage[]

const settle = async (reader: LiveReader): Promise<void> => reader.reached(await engine.flush())

describe('embedded engine', () => {
  it('streams the snapshot, then live inserts, updates and deletes with txids', async () => {
    await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ('00000000-0000-0000-0000-000000000001', 'one', 'u1')`)
    const reader = new LiveReader(engine, shapeOf('todos'))
    await reader.nextUpToDate()
    expect([...reader.state.rows.values()].map((r) => r.title)).toEqual(['one'])
    const snapshotEnd = reader.items.find((i) => !isChangeMessage(i.message) && i.message.headers.control === 'snapshot-end')
    expect(snapshotEnd).toBeDefined()

    const client = await db.pool.connect()
    await client.query('BEGIN')
    const { rows } = await client.query(`SELECT pg_current_xact_id()::xid::text AS txid`)
    await client.query(`INSERT INTO todos (id, title, owner_id) VALUES ('00000000-0000-0000-0000-000000000002', 'two', 'u1')`)
    await client.query(`UPDATE todos SET title = 'uno' WHERE id = '00000000-0000-0000-0000-000000000001'`)
    await client.query('COMMIT')
    client.release()
    await db.sql(`DELETE FROM todos WHERE id = '00000000-0000-0000-0000-000000000002'`)
    await settle(reader)

    const seen = changes(reader).slice(1)
    expect(seen.map((m) => m.headers.operation)).toEqual(['insert', 'update', 'delete'])
    expect(seen[0]!.headers.txids).toEqual([Number(rows[0].txid)])
    expect(seen[1]!.headers.txids).toEqual([Number(rows[0].txid)])
    expect(seen[1]!.headers.last).toBe(true)
    expect(seen[1]!.value).toEqual({ id: '00000000-0000-0000-0000-000000000001', title: 'uno' })
    expect(seen[2]!.value).toEqual({ id: '00000000-0000-0000-0000-000000000002' })
    expect([...reader.state.rows.values()].map((r) => r.title)).toEqual(['uno'])
    await reader.stop()
  })

  it('turns moves in and out of the where clause into inserts and deletes', async () => {
    await db.sql(`DELETE FROM todos`)
    const reader = new LiveReader(engine, shapeOf('todos', { where: `"is_completed" = $1`, params: ['false'], replica: 'full' }))
    await reader.nextUpToDate()
    await db.sql(`INSERT INTO todos (id, title, owner_id) VALUES ('00000000-0000-0000-0000-00000000000a', 'a', 'u1')`)
    await db.sql(`UPDATE todos SET is_completed = true WHERE id = '00000000-0000-0000-0000-00000000000a'`)
    await db.sql(`UPDATE todos SET is_completed = false, title = 'back' WHERE id = '00000000-0000-0000-0000-00000000000a'`)
    await db.sql(`UPDATE todos SET id = '00000000-0000-0000-0000-00000000000b' WHERE id = '00000000-0000-0000-0000-00000000000a'`)
    await settle(reader)
    const seen = changes(reader)
    expect(seen.map((m) => m.headers.operation)).toEqual(['insert', 'delete', 'insert', 'delete', 'insert'])
    expect(seen[1]!.value.title).toBe('a') // full replica: the old row
    expect(seen[3]!.headers.key_change_to).toBe(seen[4]!.key)
    expect([...reader.state.rows.values()]).toEqual([
      expect.objectContaining({ id: '00000000-0000-0000-0000-00000000000b', title: 'back', is_completed: 'f' }),
    ])
    await reader.stop()
  })

  it('shares one log per definition and rotates on TRUNCATE', async () => {
    const def = shapeOf('projects')
    const a = await engine.fetch(def, { offset: '-1' })
    const b = await engine.fetch(def, { offset: '-1' })
    expect(a.status === 'ok' && b.status === 'ok' && a.handle === b.handle).toBe(true)
    const reader = new LiveReader(engine, def)
    await reader.nextUpToDate()
    await db.sql(`INSERT INTO projects (id, name, owner_id) VALUES (gen_random_uuid(), 'p', 'u1')`)
    await db.sql(`TRUNCATE projects CASCADE`)
    await db.sql(`INSERT INTO projects (id, name, owner_id) VALUES (gen_random_uuid(), 'after', 'u1')`)
    await settle(reader)
    const controls = reader.items.map((i) => i.message.headers as { control?: string }).map((h) => h.control)
    expect(controls).toContain('must-refetch')
    expect([...reader.state.rows.values()].map((r) => r.name)).toEqual(['after'])
    const c = await engine.fetch(def, { offset: '-1' })
    expect(c.status === 'ok' && c.handle).not.toBe(a.status === 'ok' && a.handle)
    await reader.stop()
  })

  it('answers a stale handle with must-refetch and the current handle', async () => {
    const result = await engine.fetch(shapeOf('todos'), { offset: '0_0', handle: '1-1' })
    expect(result.status).toBe('must-refetch')
  })

  it('rejects unknown tables, columns and where clauses before streaming', async () => {
    await expect(engine.fetch(shapeOf('nope'), { offset: '-1' })).rejects.toThrow(/does not exist/)
    await expect(engine.fetch(shapeOf('todos', { columns: ['title'] }), { offset: '-1' })).rejects.toThrow(/primary key/)
    await expect(engine.fetch(shapeOf('todos', { where: 'now() > created_at' }), { offset: '-1' })).rejects.toThrow(/now/)
  })
})

describe('enum columns', () => {
  it('orders enum values by their declared order, as Postgres does', async () => {
    await db.sql(`INSERT INTO projects (id, name, owner_id) VALUES ('00000000-0000-0000-0000-0000000000e1', 'p', 'u')`)
    await db.sql(`INSERT INTO issues (id, title, status, project_id) VALUES
      (gen_random_uuid(), 'a', 'open', '00000000-0000-0000-0000-0000000000e1'),
      (gen_random_uuid(), 'b', 'in progress', '00000000-0000-0000-0000-0000000000e1'),
      (gen_random_uuid(), 'c', 'done', '00000000-0000-0000-0000-0000000000e1')`)
    const reader = new LiveReader(engine, shapeOf('issues', { where: `status > $1`, params: ['open'] }))
    await reader.nextUpToDate()
    const expected = await db.sql(`SELECT title FROM issues WHERE status > 'open' ORDER BY title`)
    expect([...reader.state.rows.values()].map((r) => r.title).sort()).toEqual(expected.map((r) => r.title))
    await reader.stop()
    await expect(engine.fetch(shapeOf('issues', { where: `status = $1`, params: ['nope'] }), { offset: '-1' })).rejects.toThrow(/nope/)
  })
})

describe('schema changes', () => {
  it('rotates the shapes of a table whose columns change; readers refetch with the new columns', async () => {
    await db.sql(`CREATE TABLE notes (id int PRIMARY KEY, body text)`)
    await db.sql(`INSERT INTO notes VALUES (1, 'one')`)
    const reader = new LiveReader(engine, shapeOf('notes'))
    await reader.nextUpToDate()
    await db.sql(`INSERT INTO notes VALUES (2, 'two')`) // the walsender sends the table's Relation message first
    await settle(reader)
    await db.sql(`ALTER TABLE notes ADD COLUMN tag text`)
    await db.sql(`INSERT INTO notes VALUES (3, 'three', 'new')`)
    await settle(reader)
    const controls = reader.items.map((i) => (i.message.headers as { control?: string }).control)
    expect(controls).toContain('must-refetch')
    expect([...reader.state.rows.values()].sort((a, b) => Number(a.id) - Number(b.id))).toEqual([
      { id: '1', body: 'one', tag: null }, { id: '2', body: 'two', tag: null }, { id: '3', body: 'three', tag: 'new' },
    ])
    await reader.stop()
  })
})
