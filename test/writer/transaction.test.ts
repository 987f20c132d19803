// One batch, one transaction: atomicity whatever step fails, constraint violations, the txid, concurrency.
import { describe, expect, it } from 'vitest'
import { Writer, type AllowOptions } from '../../src/writer/index.js'
import type { Prisma } from '../../generated/prisma/client.js'
import { seedTodos, tanstack, todo, todoTitles, uid, useDatabase, writerError } from './support.js'

const ctx = useDatabase()
type Tx = Prisma.TransactionClient
type TodoRow = Prisma.TodoGetPayload<object>

describe('atomicity', () => {
  // Operation 3 of 5 fails at the given step; operations 0..2 must not be in the database afterwards.
  const failing: [string, AllowOptions<TodoRow, Tx>, unknown][] = [
    ['load (not found)', {}, tanstack.update({ id: uid(404) }, { title: 'x' })],
    ['validate', { validate: (row) => row.title !== 'bad' }, tanstack.insert(todo(13, 'bad'))],
    ['primaryKey', { load: (d, { tx }) => tx.todo.findFirst({ where: { id: d.id ?? uid(1) } }) }, tanstack.delete({ title: 'no key' })],
    ['preApply', { preApply: ({ row }) => { if (row.title === 'boom') throw new Error('boom') } }, tanstack.insert(todo(13, 'boom'))],
    ['write (unique violation)', {}, tanstack.insert(todo(1, 'duplicate id'))],
    ['postApply', { postApply: ({ row }) => { if (row.title === 'late') throw new Error('late') } }, tanstack.insert(todo(13, 'late'))],
  ]
  it.each(failing)('operation 3 failing at %s leaves no trace of operations 0..2', async (_name, options, bad) => {
    const { db } = ctx
    await seedTodos(db, todo(1, 'seed one'), todo(2, 'seed two'))
    const error = await writerError(new Writer<Tx>().allow(db.prisma.todo, options).apply([
      tanstack.insert(todo(10, 'ten')),
      tanstack.update({ id: uid(1) }, { title: 'seed one changed' }),
      tanstack.delete({ id: uid(2) }),
      bad,
      tanstack.insert(todo(14, 'after')),
    ], db.prisma))
    expect(error.operationIndex).toBe(3)
    expect(await todoTitles(db)).toEqual(['seed one', 'seed two'])
  })

  it('writes made by hooks through tx roll back with the batch', async () => {
    const { db } = ctx
    await writerError(new Writer<Tx>().allow(db.prisma.todo, {
      beforeAll: (tx) => tx.project.create({ data: { name: 'beforeAll', ownerId: 'u1' } }),
      postApply: async ({ tx, operation }) => {
        await tx.project.create({ data: { name: `post ${operation.index}`, ownerId: 'u1' } })
        if (operation.index === 1) throw new Error('stop')
      },
    }).apply([tanstack.insert(todo(1)), tanstack.insert(todo(2))], db.prisma))
    expect(await db.sql('SELECT count(*)::int AS n FROM projects')).toEqual([{ n: 0 }])
    expect(await todoTitles(db)).toEqual([])
  })
})

describe('constraint violations are CONFLICT', () => {
  it('unique violation (P2002 / 23505)', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1))
    const error = await writerError(new Writer().allow(db.prisma.todo).apply([tanstack.insert(todo(1, 'again'))], db.prisma))
    expect(error).toMatchObject({ step: 'write', kind: 'conflict', operationIndex: 0 })
    // Our words, naming the key's fields; Prisma's text stays in the cause.
    expect(error.message).toBe('write failed for operation 0: a row with the same unique key already exists (constraint "todos_pkey") [SQLSTATE 23505]')
    expect((error.cause as { code?: string }).code).toBe('P2002')
  })

  it('foreign-key violation (P2003 / 23503)', async () => {
    const { db } = ctx
    const error = await writerError(new Writer().allow(db.prisma.issue)
      .apply([tanstack.insert({ id: uid(1), title: 'orphan', projectId: uid(999) }, 'issues')], db.prisma))
    expect(error).toMatchObject({ step: 'write', kind: 'conflict', operationIndex: 0 })
    expect((error.cause as { code?: string }).code).toBe('P2003')
  })

  it('row gone at write time (P2025)', async () => {
    const { db } = ctx
    // a load that vouches for a row which does not exist
    const error = await writerError(new Writer().allow(db.prisma.todo, { load: (data) => ({ ...todo(5), createdAt: new Date(), completed: false, id: data.id! }) })
      .apply([tanstack.update({ id: uid(5) }, { title: 'x' })], db.prisma))
    expect(error).toMatchObject({ step: 'write', kind: 'conflict' })
    expect((error.cause as { code?: string }).code).toBe('P2025')
  })

  it('raw SQL in a hook violating a constraint (P2010 carrying 23505)', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1))
    const error = await writerError(new Writer<Tx>().allow(db.prisma.todo, {
      preApply: async ({ tx }) => { await tx.$executeRawUnsafe(`INSERT INTO todos (id, title, owner_id) VALUES ('${uid(1)}', 'dup', 'u1')`) },
    }).apply([tanstack.insert(todo(2))], db.prisma))
    expect(error).toMatchObject({ step: 'preApply', kind: 'conflict' })
  })
})

describe('txid', () => {
  it('is the xid of the transaction that wrote the rows (xmin of inserted and updated rows)', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1))
    const writer = new Writer().allow(db.prisma.todo)
    const { txid } = await writer.apply([tanstack.insert(todo(2)), tanstack.update({ id: uid(1) }, { title: 'changed' })], db.prisma)
    expect(Number.isSafeInteger(txid)).toBe(true)
    const rows = await db.sql<{ xmin: string }>('SELECT xmin::text FROM todos WHERE id = ANY($1)', [[uid(1), uid(2)]])
    expect(rows.map((r) => Number(r.xmin))).toEqual([txid, txid])
    const next = await writer.apply([tanstack.delete({ id: uid(2) })], db.prisma)
    expect(next.txid).toBeGreaterThan(txid)
  })

  it('matches the 32-bit xid Postgres reports for the transaction (pg_current_xact_id without epoch)', async () => {
    const { db } = ctx
    let inside: string | undefined
    const { txid } = await new Writer<Tx>().allow(db.prisma.todo, {
      postApply: async ({ tx }) => { inside = (await tx.$queryRawUnsafe<{ x: string }[]>('SELECT (pg_current_xact_id()::text::bigint % 4294967296)::text AS x'))[0]!.x },
    }).apply([tanstack.insert(todo(1))], db.prisma)
    expect(String(txid)).toBe(inside)
  })
})

describe('concurrency', () => {
  it('20 batches in parallel: all applied, each with its own txid on its own rows', async () => {
    const { db } = ctx
    const writer = new Writer().allow(db.prisma.todo)
    const results = await Promise.all(Array.from({ length: 20 }, (_, b) =>
      writer.apply([0, 1, 2].map((i) => tanstack.insert(todo(b * 10 + i, `batch ${b} row ${i}`))), db.prisma, { transaction: { maxWait: 20_000, timeout: 20_000 } })))
    expect(new Set(results.map((r) => r.txid)).size).toBe(20)
    const rows = await db.sql<{ id: string; xmin: string }>('SELECT id, xmin::text FROM todos')
    expect(rows).toHaveLength(60)
    const xminById = new Map(rows.map((r) => [r.id, Number(r.xmin)]))
    results.forEach((r, b) => {
      for (const i of [0, 1, 2]) expect(xminById.get(uid(b * 10 + i))).toBe(r.txid)
    })
  })

  it('parallel batches touching the same row serialize; a failing one leaves the others applied', async () => {
    const { db } = ctx
    await seedTodos(db, todo(1, '0'))
    const writer = new Writer<Tx>().allow(db.prisma.todo, {
      // read-modify-write under a row lock: every increment must survive
      load: async (data, { tx }) => (await tx.$queryRawUnsafe<TodoRow[]>('SELECT id, title FROM todos WHERE id = $1::uuid FOR UPDATE', data.id))[0] ?? null,
      update: { preApply: async ({ tx, original }) => {
        await tx.todo.update({ where: { id: original!.id }, data: { title: String(Number(original!.title) + 1) } })
      } },
    })
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) =>
      writer.apply(i === 4 ? [tanstack.update({ id: uid(1) }, {}), tanstack.insert(todo(1, 'duplicate'))] : [tanstack.update({ id: uid(1) }, {})], db.prisma, { transaction: { maxWait: 20_000, timeout: 20_000 } })))
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1)
    expect(await todoTitles(db)).toEqual(['9'])
  })
})
