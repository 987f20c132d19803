// The Writer pipeline stage by stage: order of hooks, check before any database access, load, validate,
// primary keys, pre/post apply, accept, beforeAll, per-operation overrides. Real Postgres, real Prisma.
import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { Writer, type Operation, type TransactionOf } from '../../src/writer/index.js'
import type { Prisma } from '../../generated/prisma/client.js'
import { seedTodos, tanstack, todo, todoTitles, uid, useDatabase, writerError } from './support.js'

const ctx = useDatabase()
type Tx = Prisma.TransactionClient

describe('defaults', () => {
  it('allow(prisma.todo) with no hooks writes inserts, updates and deletes', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1, 'one'), todo(2, 'two'))
    const result = await new Writer().allow(db.prisma.todo).apply([
      tanstack.insert(todo(3, 'three')),
      tanstack.update({ id: uid(1) }, { title: 'one!' }),
      tanstack.delete({ id: uid(2) }),
    ], db.prisma)
    expect(typeof result.txid).toBe('number')
    expect(result.changes.map((c) => [c.index, c.type, c.model, c.row.title])).toEqual([
      [0, 'insert', 'Todo', 'three'], [1, 'update', 'Todo', 'one!'], [2, 'delete', 'Todo', 'two'],
    ])
    expect(await todoTitles(db)).toEqual(['one!', 'three'])
  })

  it('an insert without a key gets the column default', async () => {
    const { db } = ctx
    const { changes } = await new Writer().allow(db.prisma.todo).apply([tanstack.insert({ title: 'no id', ownerId: 'u1' })], db.prisma)
    expect(changes[0]!.row.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(changes[0]!.row.createdAt).toBeInstanceOf(Date)
  })
})

describe('a mixed batch (Phoenix.Sync "writes valid changes")', () => {
  it('applies every operation in order and calls the hooks for each', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1, 'First todo'), { ...todo(2, 'Second todo'), completed: true })
    const loads: string[] = []
    const events: string[] = []
    const writer = new Writer<Tx>().allow(db.prisma.todo, {
      table: 'todos_local',
      load: (data, { tx }) => { loads.push(data.id!); return tx.todo.findUnique({ where: { id: data.id! } }) },
      insert: { validate: (row) => { events.push(`validate insert ${row.title}`); return true } },
      update: { preApply: ({ row }) => { events.push(`pre update ${row.title}`) } },
      delete: { postApply: ({ row }) => { events.push(`post delete ${row.title}`) } },
    })
    const rel: [string, string] = ['public', 'todos_local']
    await writer.apply([
      tanstack.insert(todo(98, 'New todo'), rel),
      tanstack.insert(todo(99, 'Disposable todo'), rel),
      tanstack.delete({ id: uid(2) }, rel),
      tanstack.update({ id: uid(1), title: 'First todo', completed: false }, { title: 'Changed title' }, rel),
      tanstack.update({ id: uid(1), title: 'Changed title', completed: false }, { completed: true }, rel),
      tanstack.delete({ id: uid(99), title: 'New todo', completed: false }, rel),
      tanstack.update({ id: uid(98), title: 'Working todo', completed: false }, { title: 'Working todo', completed: true }, rel),
    ], db.prisma)
    // load is not called for inserts
    expect(loads).toEqual([uid(2), uid(1), uid(1), uid(99), uid(98)])
    expect(events).toEqual([
      'validate insert New todo', 'validate insert Disposable todo', 'post delete Second todo',
      'pre update Changed title', 'pre update Changed title', 'post delete Disposable todo', 'pre update Working todo',
    ])
    expect(await db.sql('SELECT id, title, is_completed FROM todos ORDER BY id')).toEqual([
      { id: uid(1), title: 'Changed title', is_completed: true },
      { id: uid(98), title: 'Working todo', is_completed: true },
    ])
  })
})

describe('order of stages', () => {
  it('parse → check (all) → beforeAll → load → validate → preApply → write → postApply, per operation', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1), todo(2))
    const events: string[] = []
    const log = (e: string) => { events.push(e); return true as const }
    const writer = new Writer<Tx>().allow(db.prisma.todo, {
      check: (op) => log(`check ${op.index}`),
      beforeAll: () => { log('beforeAll') },
      load: async (data, { tx, operation }) => { log(`load ${operation.index}`); return tx.todo.findUnique({ where: { id: data.id! } }) },
      validate: (_row, { operation }) => log(`validate ${operation.index}`),
      preApply: async ({ tx, operation }) => {
        log(`preApply ${operation.index}`)
        // the write has not happened yet
        const row = await tx.todo.findUnique({ where: { id: uid(3) } })
        if (operation.index === 0) expect(row).toBeNull()
      },
      postApply: async ({ tx, operation, row }) => {
        log(`postApply ${operation.index}`)
        if (operation.type !== 'delete') expect(await tx.todo.findUnique({ where: { id: row.id } })).toMatchObject({ title: row.title })
      },
    })
    await writer.apply([
      tanstack.insert(todo(3)),
      tanstack.update({ id: uid(1) }, { title: 'x' }),
      tanstack.delete({ id: uid(2) }),
    ], db.prisma)
    expect(events).toEqual([
      'check 0', 'check 1', 'check 2',
      'beforeAll',
      'validate 0', 'preApply 0', 'postApply 0',
      'load 1', 'validate 1', 'preApply 1', 'postApply 1',
      'load 2', 'validate 2', 'preApply 2', 'postApply 2',
    ])
  })
})

describe('check', () => {
  it('runs on every operation before any database access', async () => {
    const { db } = ctx
    let transactions = 0
    const prisma = { $transaction: ((...args: Parameters<typeof db.prisma.$transaction>) => { transactions++; return db.prisma.$transaction(...args) }) as typeof db.prisma.$transaction }
    const seen: number[] = []
    const writer = new Writer().allow(db.prisma.todo, {
      // any database access would fail on operation 0 (an update with no primary key) first
      check: (op) => { seen.push(op.index); return op.index !== 1 || 'no second operations' },
    })
    const error = await writerError(writer.apply([
      tanstack.update({ title: 'no key' }, { title: 'x' }),
      tanstack.insert(todo(1)),
    ], prisma))
    expect(error).toMatchObject({ step: 'check', kind: 'forbidden', operationIndex: 1, reason: 'no second operations' })
    expect(error.message).toBe('check failed for operation 1: no second operations')
    expect(seen).toEqual([0, 1])
    expect(transactions).toBe(0)
  })

  it('sees the operation with field names and converted values', async () => {
    const { db } = ctx
    const ops: Operation[] = []
    await new Writer().allow(db.prisma.todo, { check: (op) => { ops.push(op as Operation); return true } })
      .apply([tanstack.insert({ id: uid(1), title: 't', owner_id: 'u1', is_completed: 'true', created_at: '2024-05-06T07:08:09.000Z' })], db.prisma)
    expect(ops[0]).toEqual({
      index: 0, type: 'insert', table: ['public', 'todos'], model: 'Todo',
      data: { id: uid(1), title: 't', ownerId: 'u1', completed: true, createdAt: new Date('2024-05-06T07:08:09.000Z') },
      changes: {},
    })
  })

  it('rejects on false, a reason, a throw or a forgotten return', async () => {
    const { db } = ctx
    const run = (check: (op: Operation) => unknown) =>
      writerError(new Writer().allow(db.prisma.todo, { check: check as () => boolean }).apply([tanstack.insert(todo(1))], db.prisma))
    expect(await run(() => false)).toMatchObject({ step: 'check', kind: 'forbidden', reason: 'rejected by check' })
    expect(await run(() => 'not yours')).toMatchObject({ step: 'check', kind: 'forbidden', reason: 'not yours' })
    expect(await run(async () => 'later')).toMatchObject({ step: 'check', reason: 'later' })
    expect(await run(() => undefined)).toMatchObject({ step: 'check', kind: 'forbidden', reason: expect.stringMatching(/return true to accept/) })
    const thrown = await run(() => { throw new Error('boom') })
    expect(thrown).toMatchObject({ step: 'check', kind: 'error', reason: 'boom' })
    expect((thrown.cause as Error).message).toBe('boom')
    expect(await todoTitles(db)).toEqual([])
  })

  it('an operation type outside accept rejects the batch (Phoenix.Sync "rejects updates not in :accept list")', async () => {
    const { db } = ctx
    await seedTodos(db, todo(2))
    let checked = 0
    const error = await writerError(new Writer().allow(db.prisma.todo, { accept: ['insert', 'update'], check: () => { checked++; return true } })
      .apply([tanstack.insert(todo(98)), tanstack.delete({ id: uid(2) }), tanstack.update({ id: uid(2) }, { title: 'x' })], db.prisma))
    expect(error).toMatchObject({ step: 'accept', kind: 'forbidden', operationIndex: 1 })
    expect(error.reason).toBe('delete is not accepted for public.todos (accepts insert, update)')
    expect(checked).toBe(1)
    expect(await todoTitles(db)).toEqual(['todo 2'])
  })
})

describe('beforeAll', () => {
  it('runs once per allowed model, in the transaction, before that model\'s first operation', async () => {
    const { db } = ctx
    const events: string[] = []
    const writer = new Writer<Tx>()
      .allow(db.prisma.todo, {
        beforeAll: async (tx) => {
          events.push('todo beforeAll')
          await tx.project.create({ data: { id: uid(500), name: 'made in beforeAll', ownerId: 'u1' } })
        },
        postApply: ({ operation }) => { events.push(`todo ${operation.index}`) },
      })
      .allow(db.prisma.project, {
        beforeAll: () => { events.push('project beforeAll') },
        postApply: ({ operation }) => { events.push(`project ${operation.index}`) },
      })
      .allow(db.prisma.issue, { beforeAll: () => { events.push('issue beforeAll') } })
    await writer.apply([
      { type: 'insert', modified: { id: uid(1), name: 'p', ownerId: 'u1' }, syncMetadata: { relation: 'projects' } },
      tanstack.insert(todo(1)),
      tanstack.insert(todo(2)),
      { type: 'update', original: { id: uid(1) }, changes: { name: 'p2' }, syncMetadata: { relation: 'projects' } },
      tanstack.update({ id: uid(1) }, { title: 'x' }),
    ], db.prisma)
    expect(events).toEqual(['project beforeAll', 'project 0', 'todo beforeAll', 'todo 1', 'todo 2', 'project 3', 'todo 4'])
    expect((await db.sql('SELECT name FROM projects ORDER BY name')).map((r) => r.name)).toEqual(['made in beforeAll', 'p2'])
  })
})

describe('load', () => {
  it('sees rows written earlier in the same batch (Phoenix.Sync "uses data in the txn")', async () => {
    const { db } = ctx
    const writer = new Writer().allow(db.prisma.todo)
    await writer.apply([
      tanstack.insert(todo(98, 'New todo')),
      tanstack.update({ id: uid(98) }, { title: 'Changed title' }),
      tanstack.update({ id: uid(98) }, { title: 'Changed again', completed: true }),
    ], db.prisma)
    expect(await db.sql('SELECT title, is_completed FROM todos')).toEqual([{ title: 'Changed again', is_completed: true }])

    // a row deleted earlier in the batch is gone for later operations
    const error = await writerError(writer.apply([
      tanstack.insert(todo(99)),
      tanstack.update({ id: uid(99) }, { title: 'Changed title' }),
      tanstack.delete({ id: uid(99) }),
      tanstack.update({ id: uid(99) }, { title: 'Changed title', completed: true }),
    ], db.prisma))
    expect(error).toMatchObject({ step: 'load', kind: 'not_found', operationIndex: 3 })
    expect(error.reason).toBe(`no Todo row found for update (id = "${uid(99)}")`)
    expect(await db.sql('SELECT id FROM todos WHERE id = $1', [uid(99)])).toEqual([])
  })

  it('a custom load scopes what a client may touch; null is NOT_FOUND', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1, 'mine', 'u1'), todo(2, 'theirs', 'u2'))
    const received: unknown[] = []
    const writer = new Writer<Tx>().allow(db.prisma.todo, {
      load: (data, { tx, operation }) => {
        received.push([operation.index, data])
        return tx.todo.findFirst({ where: { id: data.id!, ownerId: 'u1' } })
      },
    })
    await writer.apply([tanstack.update({ id: uid(1), title: 'mine' }, { title: 'mine!' })], db.prisma)
    expect(received).toEqual([[0, { id: uid(1), title: 'mine' }]])
    const error = await writerError(writer.apply([tanstack.delete({ id: uid(2) })], db.prisma))
    expect(error).toMatchObject({ step: 'load', kind: 'not_found', operationIndex: 0 })
    expect(await todoTitles(db)).toEqual(['mine!', 'theirs'])
  })

  it('a load that throws fails the batch with its message (Phoenix.Sync "custom errors from load fun")', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1))
    const error = await writerError(new Writer().allow(db.prisma.todo, { load: () => { throw new Error('custom error message') } })
      .apply([tanstack.update({ id: uid(1) }, { title: 'x' })], db.prisma))
    expect(error).toMatchObject({ step: 'load', kind: 'error', reason: 'custom error message', operationIndex: 0 })
  })
})

describe('validate', () => {
  const todoSchema = z.object({ title: z.string().min(1, 'title is required'), ownerId: z.string() })

  it('with a zod schema: inserts see the new row, updates the loaded row merged with the changes', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1, 'kept'))
    const writer = new Writer().allow(db.prisma.todo, { validate: todoSchema })
    // the update's changes alone lack title and ownerId; merged with the loaded row they pass
    await writer.apply([tanstack.insert(todo(2, 'new')), tanstack.update({ id: uid(1) }, { completed: true })], db.prisma)
    const error = await writerError(writer.apply([tanstack.insert(todo(3, 'ok')), tanstack.update({ id: uid(1) }, { title: '' })], db.prisma))
    expect(error).toMatchObject({ step: 'validate', kind: 'invalid', operationIndex: 1, reason: 'title: title is required' })
    expect(error.issues).toEqual([{ path: ['title'], message: 'title is required' }])
    expect(await todoTitles(db)).toEqual(['kept', 'new'])
  })

  it('with a function: gets the row, the loaded original and the operation', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1, 'before'))
    const seen: unknown[] = []
    const writer = new Writer().allow(db.prisma.todo, {
      validate: (row, { original, operation }) => {
        seen.push({ type: operation.type, title: row.title, original: original?.title ?? null })
        return row.title !== 'bad' || 'bad title'
      },
    })
    await writer.apply([tanstack.insert(todo(2, 'new')), tanstack.update({ id: uid(1), title: 'stale' }, { title: 'after' }), tanstack.delete({ id: uid(2) })], db.prisma)
    expect(seen).toEqual([
      { type: 'insert', title: 'new', original: null },
      { type: 'update', title: 'after', original: 'before' },
      { type: 'delete', title: 'new', original: 'new' },
    ])
    const error = await writerError(writer.apply([tanstack.insert(todo(3, 'bad'))], db.prisma))
    expect(error).toMatchObject({ step: 'validate', kind: 'invalid', reason: 'bad title' })
  })

  it('a ZodError thrown by a validate function is invalid input', async () => {
    const { db } = ctx
    const error = await writerError(new Writer().allow(db.prisma.todo, { validate: (row) => { todoSchema.parse({ ...row, title: '' }); return true } })
      .apply([tanstack.insert(todo(1))], db.prisma))
    expect(error).toMatchObject({ step: 'validate', kind: 'invalid' })
  })

  it('per-operation overrides replace the top-level hook for that operation type only', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1), todo(2))
    const calls: string[] = []
    const writer = new Writer().allow(db.prisma.todo, {
      validate: (_row, { operation }) => { calls.push(`top ${operation.type}`); return true },
      preApply: ({ operation }) => { calls.push(`top pre ${operation.type}`) },
      postApply: ({ operation }) => { calls.push(`top post ${operation.type}`) },
      update: { validate: (row) => { calls.push(`update validate ${row.title}`); return true } },
      delete: {
        validate: (row) => { calls.push(`delete validate ${row.title}`); return true },
        preApply: () => { calls.push('delete pre') },
        postApply: ({ row }) => { calls.push(`delete post ${row.title}`) },
      },
      insert: { postApply: ({ row }) => { calls.push(`insert post ${row.title}`) } },
    })
    await writer.apply([tanstack.insert(todo(3, 'three')), tanstack.update({ id: uid(1) }, { title: 'one!' }), tanstack.delete({ id: uid(2) })], db.prisma)
    expect(calls).toEqual([
      'top insert', 'top pre insert', 'insert post three',
      'update validate one!', 'top pre update', 'top post update',
      'delete validate todo 2', 'delete pre', 'delete post todo 2',
    ])
  })
})

describe('primary key', () => {
  it('updates and deletes must carry the primary key (Phoenix.Sync "always validates that pk columns are included")', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1, 'First todo'))
    // with the default load the key is needed to load the row
    const withDefaultLoad = await writerError(new Writer().allow(db.prisma.todo)
      .apply([tanstack.update({ title: 'First todo', completed: false }, { title: 'Changed title' })], db.prisma))
    expect(withDefaultLoad).toMatchObject({ step: 'primaryKey', kind: 'invalid', operationIndex: 0, reason: 'missing primary key "id" of Todo' })
    // a custom load may find the row by other means; the write still needs the key
    const withCustomLoad = await writerError(new Writer<Tx>().allow(db.prisma.todo, { load: (data, { tx }) => tx.todo.findFirst({ where: { title: data.title! } }) })
      .apply([tanstack.insert(todo(2)), tanstack.delete({ title: 'First todo' })], db.prisma))
    expect(withCustomLoad).toMatchObject({ step: 'primaryKey', kind: 'invalid', operationIndex: 1 })
    expect(await todoTitles(db)).toEqual(['First todo'])
  })

  it('a null key is not a key (refused when parsing, as the field is required)', async () => {
    const { db } = ctx
    expect(await writerError(new Writer().allow(db.prisma.todo).apply([tanstack.delete({ id: null })], db.prisma)))
      .toMatchObject({ step: 'parse', kind: 'invalid', operationIndex: 0, reason: 'id: must not be null' })
  })
})

describe('preApply and postApply', () => {
  it('preApply sees the validated row and can write through tx; postApply sees the row as written', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1, 'one'))
    const pre: unknown[] = []
    const post: unknown[] = []
    await new Writer<Tx>().allow(db.prisma.todo, {
      preApply: async ({ tx, row, original, operation }) => {
        pre.push({ type: operation.type, title: row.title, original: original?.title ?? null })
        await tx.project.create({ data: { name: `audit ${operation.type} ${row.title}`, ownerId: 'system' } })
      },
      postApply: ({ row }) => { post.push(row) },
    }).apply([tanstack.insert({ title: 'two', ownerId: 'u1' }), tanstack.update({ id: uid(1) }, { completed: true })], db.prisma)
    expect(pre).toEqual([{ type: 'insert', title: 'two', original: null }, { type: 'update', title: 'one', original: 'one' }])
    expect(post).toEqual([
      { id: expect.any(String), title: 'two', completed: false, ownerId: 'u1', createdAt: expect.any(Date) },
      { id: uid(1), title: 'one', completed: true, ownerId: 'u1', createdAt: expect.any(Date) },
    ])
    expect((await db.sql('SELECT name FROM projects ORDER BY name')).map((r) => r.name)).toEqual(['audit insert two', 'audit update one'])
  })

  it('a throwing preApply or postApply rejects the batch at that step', async () => {
    const { db } = ctx
    const pre = await writerError(new Writer().allow(db.prisma.todo, { preApply: ({ operation }) => { if (operation.index === 1) throw new Error('no') } })
      .apply([tanstack.insert(todo(1)), tanstack.insert(todo(2))], db.prisma))
    expect(pre).toMatchObject({ step: 'preApply', operationIndex: 1, reason: 'no' })
    const post = await writerError(new Writer().allow(db.prisma.todo, { postApply: () => { throw new Error('after') } })
      .apply([tanstack.insert(todo(1))], db.prisma))
    expect(post).toMatchObject({ step: 'postApply', operationIndex: 0, reason: 'after' })
    expect(await todoTitles(db)).toEqual([])
  })
})

describe('allow', () => {
  it('the same model under two client tables, each with its own rules (Phoenix.Sync "multiple tables")', async () => {
    const { db } = ctx
    const seen: string[] = []
    await new Writer()
      .allow(db.prisma.todo, { postApply: ({ row }) => { seen.push(`todos ${row.title}`) } })
      .allow(db.prisma.todo, { table: 'todos_2', postApply: ({ row }) => { seen.push(`todos_2 ${row.title}`) } })
      .apply([tanstack.insert(todo(98, 'New todo1')), tanstack.insert(todo(99, 'New todo2'), ['public', 'todos_2'])], db.prisma)
    expect(seen).toEqual(['todos New todo1', 'todos_2 New todo2'])
    expect(await todoTitles(db)).toEqual(['New todo1', 'New todo2'])
  })

  it('is immutable and rejects bad configuration', () => {
    const { db } = ctx
    const base = new Writer()
    const withTodo = base.allow(db.prisma.todo)
    expect(withTodo).not.toBe(base)
    expect(() => withTodo.allow(db.prisma.todo)).toThrow(/already allowed/)
    expect(() => base.allow({} as never)).toThrow(/Prisma model delegate/)
    expect(() => base.allow(db.prisma.todo, { accept: ['upsert' as 'insert'] })).toThrow(/unknown operation type/)
    expect(() => base.allow(db.prisma.todo, { table: 'a.b.c' })).toThrow(/invalid table name/)
  })

  it('types hooks by the model row and the transaction client', () => {
    const { db } = ctx
    new Writer<TransactionOf<typeof db.prisma>>().allow(db.prisma.todo, {
      check: (op) => {
        expectTypeOf(op.data.title).toEqualTypeOf<string | undefined>()
        expectTypeOf(op.changes.createdAt).toEqualTypeOf<Date | undefined>()
        return true
      },
      load: (data, { tx }) => tx.todo.findUnique({ where: { id: data.id! } }),
      update: { validate: (row) => { expectTypeOf(row.completed).toEqualTypeOf<boolean>(); return true } },
      postApply: ({ row, tx }) => {
        expectTypeOf(row.ownerId).toEqualTypeOf<string>()
        expectTypeOf(tx.todo.findMany).toBeFunction()
      },
    }).allow(db.prisma.allTypes, {
      check: (op) => { expectTypeOf(op.data.big).toEqualTypeOf<bigint | null | undefined>(); return true },
    })
  })
})
