// Batch formats (TanStack DB, plain JSON, custom parsers), table matching and key mapping.
import { describe, expect, it } from 'vitest'
import { Writer, jsonBatch, tanstackBatch, type OperationInput } from '../../src/writer/index.js'
import { splitTableName } from '../../src/writer/operation.js'
import { seedTodos, tanstack, todo, todoTitles, uid, useDatabase, writerError } from './support.js'

const ctx = useDatabase()

describe('TanStack DB format', () => {
  it('takes the key from modified for inserts and from original for updates and deletes; an update writes only changes', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1, 'server title'), todo(2))
    await new Writer().allow(db.prisma.todo).apply([
      // a full PendingMutation as TanStack DB builds it (minus the collection), stale original title
      {
        mutationId: 'm1', type: 'update', key: uid(1), globalKey: `KEY::todos/${uid(1)}`,
        original: { id: uid(1), title: 'stale client title', completed: false, ownerId: 'u1' },
        modified: { id: uid(1), title: 'stale client title', completed: true, ownerId: 'u1' },
        changes: { completed: true },
        metadata: null, syncMetadata: { relation: ['public', 'todos'] }, optimistic: true,
        createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z',
      },
      { type: 'delete', key: uid(2), original: { id: uid(2), title: 'whatever' }, modified: { id: uid(999) }, changes: {}, syncMetadata: { relation: ['public', 'todos'] } },
      { type: 'insert', key: uid(3), original: {}, modified: todo(3, 'new'), changes: todo(3, 'new'), syncMetadata: { relation: ['public', 'todos'] } },
    ], db.prisma, { format: 'tanstack' })
    expect(await db.sql('SELECT id, title, is_completed FROM todos ORDER BY id')).toEqual([
      { id: uid(1), title: 'server title', is_completed: true },
      { id: uid(3), title: 'new', is_completed: false },
    ])
  })

  it('its zod schema accepts mutation arrays and rejects what is not one', () => {
    expect(tanstackBatch.safeParse([tanstack.insert(todo(1))]).success).toBe(true)
    expect(tanstackBatch.safeParse([]).success).toBe(true)
    expect(tanstackBatch.safeParse([{ type: 'update', original: {} }]).success).toBe(false)
    expect(tanstackBatch.safeParse([{ type: 'upsert', modified: {} }]).success).toBe(false)
    expect(tanstackBatch.safeParse({ operations: [] }).success).toBe(false)
  })

  it('rejects a malformed batch at parse, naming the operation', async () => {
    const { db } = ctx
    const writer = new Writer().allow(db.prisma.todo)
    expect(await writerError(writer.apply([tanstack.insert(todo(1)), { type: 'update', original: { id: uid(1) } }], db.prisma)))
      .toMatchObject({ step: 'parse', kind: 'invalid', operationIndex: 1 })
    expect(await writerError(writer.apply({ not: 'an array' }, db.prisma))).toMatchObject({ step: 'parse', operationIndex: undefined })
    expect(await writerError(writer.apply(undefined, db.prisma))).toMatchObject({ step: 'parse' })
  })

  it('without syncMetadata.relation, a writer for exactly one model uses it', async () => {
    const { db } = ctx
    await new Writer().allow(db.prisma.todo).apply([{ type: 'insert', modified: todo(1) }], db.prisma)
    expect(await todoTitles(db)).toEqual(['todo 1'])
    const error = await writerError(new Writer().allow(db.prisma.todo).allow(db.prisma.project).apply([{ type: 'insert', modified: todo(2) }], db.prisma))
    expect(error).toMatchObject({ step: 'parse', operationIndex: 0, reason: 'the operation names no table' })
  })
})

describe('JSON format', () => {
  it('applies { operations: [{ type, table, data, changes }] }', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1), todo(2))
    await new Writer().allow(db.prisma.todo).apply({
      operations: [
        { type: 'insert', table: 'todos', data: todo(3, 'three') },
        { type: 'update', table: 'todos', data: { id: uid(1) }, changes: { title: 'one!' } },
        { type: 'delete', table: ['public', 'todos'], data: { id: uid(2) } },
      ],
    }, db.prisma, { format: 'json' })
    expect(await todoTitles(db)).toEqual(['one!', 'three'])
  })

  it('its zod schema requires changes on updates', () => {
    expect(jsonBatch.safeParse({ operations: [{ type: 'update', table: 'todos', data: { id: 1 } }] }).success).toBe(false)
    expect(jsonBatch.safeParse({ operations: [{ type: 'delete', table: 'todos', data: { id: 1 } }] }).success).toBe(true)
  })

  it('an empty batch is rejected in every format', async () => {
    const { db } = ctx
    const writer = new Writer().allow(db.prisma.todo)
    for (const [batch, format] of [[[], 'tanstack'], [{ operations: [] }, 'json'], [[], () => []]] as const) {
      expect(await writerError(writer.apply(batch, db.prisma, { format }))).toMatchObject({
        step: 'parse', kind: 'invalid', operationIndex: undefined, reason: 'the batch has no operations',
      })
    }
  })
})

describe('custom parser', () => {
  // Phoenix.Sync's test format: { perform, relation, value, updates }
  const parser = (batch: unknown): OperationInput[] => (batch as { perform: 'insert' | 'update' | 'delete'; relation: [string, string]; value?: Record<string, unknown>; updates?: Record<string, unknown> }[])
    .map((m) => ({ type: m.perform, table: m.relation, data: (m.perform === 'insert' ? m.updates : m.value) ?? {}, changes: m.updates }))

  it('applies operations from a parser function (Phoenix.Sync "supports custom mutation message format")', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1, 'First todo'), todo(2))
    await new Writer().allow(db.prisma.todo).apply([
      { perform: 'insert', relation: ['public', 'todos'], updates: { id: uid(98), title: 'New todo', completed: 'false', ownerId: 'u1' } },
      { perform: 'delete', relation: ['public', 'todos'], value: { id: uid(2) } },
      { perform: 'update', relation: ['public', 'todos'], value: { id: uid(1), title: 'First todo', completed: 'false' }, updates: { title: 'Changed title' } },
    ], db.prisma, { format: parser })
    expect(await db.sql('SELECT id, title, is_completed FROM todos ORDER BY id')).toEqual([
      { id: uid(1), title: 'Changed title', is_completed: false },
      { id: uid(98), title: 'New todo', is_completed: false },
    ])
  })

  it('a parser that throws or returns something else is a parse error', async () => {
    const { db } = ctx
    const writer = new Writer().allow(db.prisma.todo)
    expect(await writerError(writer.apply([], db.prisma, { format: () => { throw new Error('no') } })))
      .toMatchObject({ step: 'parse', kind: 'invalid', reason: 'no' })
    expect(await writerError(writer.apply([], db.prisma, { format: async () => { throw new Error('later') } })))
      .toMatchObject({ step: 'parse', reason: 'later' })
    expect(await writerError(writer.apply([], db.prisma, { format: () => 'nope' as never })))
      .toMatchObject({ step: 'parse', reason: 'the parser did not return an array of operations' })
    expect(await writerError(writer.apply([], db.prisma, { format: () => [{ type: 'insert', table: 'todos', data: {} }, { type: 'merge' }] as never })))
      .toMatchObject({ step: 'parse', operationIndex: 1 })
  })
})

describe('tables', () => {
  it('a model matches its table in any namespace, quoted or not, and its Prisma model name', async () => {
    const { db } = ctx
    const names: (string | [string, string])[] = ['todos', 'public.todos', '"public"."todos"', ['public', 'todos'], ['client', 'todos'], 'Todo']
    await new Writer().allow(db.prisma.todo).apply(names.map((name, i) => tanstack.insert(todo(i), name)), db.prisma)
    expect(await todoTitles(db)).toHaveLength(names.length)
  })

  it('an explicit qualified table matches only that relation (Phoenix.Sync "only matches full relation if configured")', async () => {
    const { db } = ctx
    const writer = new Writer().allow(db.prisma.todo, { table: ['public', 'todos_local'] })
    await writer.apply([tanstack.insert(todo(1), ['public', 'todos_local']), tanstack.insert(todo(2), 'public.todos_local')], db.prisma)
    for (const name of [['client', 'todos_local'], 'todos', 'Todo', ['public', 'todos']] as (string | [string, string])[]) {
      expect(await writerError(writer.apply([tanstack.insert(todo(3), name)], db.prisma))).toMatchObject({ step: 'parse', kind: 'invalid', operationIndex: 0 })
    }
    // a bare table option matches in any namespace
    await new Writer().allow(db.prisma.todo, { table: 'todos_local' }).apply([tanstack.insert(todo(4), ['client', 'todos_local'])], db.prisma)
    expect(await todoTitles(db)).toEqual(['todo 1', 'todo 2', 'todo 4'])
  })

  it('unknown, malformed and ambiguous tables are rejected', async () => {
    const { db } = ctx
    const writer = new Writer().allow(db.prisma.todo)
    expect(await writerError(writer.apply([tanstack.insert(todo(1)), tanstack.insert({ id: uid(2), name: 'p' }, 'projects')], db.prisma)))
      .toMatchObject({ step: 'parse', kind: 'invalid', operationIndex: 1, reason: 'writes to table projects are not allowed' })
    expect(await writerError(writer.apply([tanstack.insert(todo(1), 'a.b.c')], db.prisma))).toMatchObject({ reason: 'invalid table name "a.b.c"' })
    const twoX = new Writer().allow(db.prisma.todo, { table: ['a', 'x'] }).allow(db.prisma.project, { table: ['b', 'x'] })
    expect((await writerError(twoX.apply([tanstack.insert(todo(1), 'x')], db.prisma))).reason).toMatch(/ambiguous/)
    await twoX.apply([tanstack.insert(todo(1), ['a', 'x']), tanstack.insert({ name: 'p', ownerId: 'u1' }, ['b', 'x'])], db.prisma)
    expect(await todoTitles(db)).toEqual(['todo 1'])
  })

  it('splits table names', () => {
    expect(splitTableName('todos')).toEqual({ namespace: undefined, name: 'todos' })
    expect(splitTableName('"my.schema"."to""dos"')).toEqual({ namespace: 'my.schema', name: 'to"dos' })
    expect(splitTableName('public.todos')).toEqual({ namespace: 'public', name: 'todos' })
    for (const bad of ['', '.', 'a.', '.a', 'a..b', '"a', 'a"b', 'a.b.c']) expect(splitTableName(bad)).toBeUndefined()
  })
})

describe('keys', () => {
  it('accepts Prisma field names and database column names alike (rows from an Electric shape carry columns)', async () => {
    const { db } = ctx
    await new Writer().allow(db.prisma.todo).apply([
      tanstack.insert({ id: uid(1), title: 'by columns', is_completed: true, owner_id: 'u1', created_at: '2024-01-02T03:04:05.000Z' }),
      tanstack.update({ id: uid(1), owner_id: 'u1' }, { is_completed: false, title: 'renamed' }),
    ], db.prisma)
    expect(await db.sql("SELECT title, is_completed, owner_id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS created FROM todos")).toEqual([
      { title: 'renamed', is_completed: false, owner_id: 'u1', created: '2024-01-02 03:04:05' },
    ])
  })

  it('rejects unknown keys, relation fields and a field given twice, listing every problem', async () => {
    const { db } = ctx
    const error = await writerError(new Writer().allow(db.prisma.project).apply([
      tanstack.insert({ id: uid(1), name: 'p', ownerId: 'u1', owner_id: 'u2', issues: [], colour: 'red' }, 'projects'),
    ], db.prisma))
    expect(error).toMatchObject({ step: 'parse', kind: 'invalid', operationIndex: 0 })
    expect(error.issues).toEqual([
      { path: ['data', 'owner_id'], message: 'field "ownerId" is given twice' },
      { path: ['data', 'issues'], message: 'unknown field "issues" on Project' },
      { path: ['data', 'colour'], message: 'unknown field "colour" on Project' },
    ])
    expect(error.reason).toBe('field "ownerId" is given twice; unknown field "issues" on Project; unknown field "colour" on Project')
  })

  it('unknown keys in an update\'s changes are named by their part', async () => {
    const { db } = ctx
    const error = await writerError(new Writer().allow(db.prisma.todo).apply([tanstack.update({ id: uid(1) }, { nope: 1 })], db.prisma))
    expect(error.issues).toEqual([{ path: ['changes', 'nope'], message: 'unknown field "nope" on Todo' }])
  })

  it('a __proto__ key pollutes nothing', async () => {
    const { db } = ctx
    const batch = JSON.parse(`[{"type":"insert","syncMetadata":{"relation":"todos"},"modified":{"__proto__":{"id":"${uid(7)}","polluted":true},"title":"t","ownerId":"u1"}}]`)
    const { changes } = await new Writer().allow(db.prisma.todo).apply(batch, db.prisma)
    expect(changes[0]!.row.id).not.toBe(uid(7))
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
