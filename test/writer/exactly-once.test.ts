// Exactly once: a batch with an id (TanStack DB's mutationId, the JSON format's id) is recorded in
// trpc_sync_batches in its transaction; the same batch again applies nothing and answers with the first
// txid; the id reused for another batch is CONFLICT; concurrent duplicates apply once.
import { describe, expect, it } from 'vitest'
import { Writer, createWriterTablesSql, transact, writerBatchesTable } from '../../src/writer/index.js'
import { seedTodos, tanstack, todo, todoTitles, uid, useDatabase, writerError } from './support.js'

const ctx = useDatabase()
const writer = () => new Writer().allow(ctx.db.prisma.todo)
const withId = <T extends object>(id: string, [first, ...rest]: T[]) => [{ ...first!, mutationId: id }, ...rest]
const recorded = () => ctx.db.sql('SELECT batch_id, txid::int AS txid FROM trpc_sync_batches ORDER BY applied_at')

describe('a batch with an id', () => {
  it('applies once; the same batch again applies nothing and answers with the first txid', async () => {
    await seedTodos(ctx.db, todo(1, 'one'), todo(2, 'two'))
    const batch = withId('batch-1', [tanstack.insert(todo(3, 'three')), tanstack.update({ id: uid(1) }, { title: 'one!' }), tanstack.delete({ id: uid(2) })])
    const first = await writer().apply(batch, ctx.db.prisma)
    expect(first).toMatchObject({ replayed: false, changes: [{ index: 0 }, { index: 1 }, { index: 2 }] })
    expect(await recorded()).toEqual([{ batch_id: 'batch-1', txid: first.txid }])
    const again = await writer().apply(structuredClone(batch), ctx.db.prisma)
    expect(again).toEqual({ txid: first.txid, changes: [], replayed: true })
    expect(await todoTitles(ctx.db)).toEqual(['one!', 'three'])
    expect((await ctx.db.sql('SELECT xmin::text AS xmin FROM todos WHERE id = $1', [uid(3)]))[0].xmin).toBe(String(first.txid))
  })

  it('the same operations with keys in another order are the same batch', async () => {
    await writer().apply(withId('b', [tanstack.insert({ id: uid(1), title: 't', ownerId: 'u1' })]), ctx.db.prisma)
    expect(await writer().apply(withId('b', [tanstack.insert({ ownerId: 'u1', title: 't', id: uid(1) })]), ctx.db.prisma)).toMatchObject({ replayed: true })
  })

  it('an id reused for a different batch is CONFLICT and applies nothing', async () => {
    await seedTodos(ctx.db, todo(1, 'one'))
    await writer().apply(withId('reused', [tanstack.insert(todo(2, 'two'))]), ctx.db.prisma)
    const error = await writerError(writer().apply(withId('reused', [tanstack.insert(todo(3, 'three')), tanstack.delete({ id: uid(1) })]), ctx.db.prisma))
    expect(error).toMatchObject({ step: 'batch', kind: 'conflict', operationIndex: undefined, reason: 'batch id "reused" was already used for a different batch' })
    expect(error.message).toBe('batch failed for batch: batch id "reused" was already used for a different batch')
    expect(await todoTitles(ctx.db)).toEqual(['one', 'two'])
  })

  it('a rejected batch records nothing: its id can be used again', async () => {
    await seedTodos(ctx.db, todo(1, 'one'))
    await writerError(writer().apply(withId('retry-me', [tanstack.insert(todo(1, 'duplicate'))]), ctx.db.prisma))
    expect(await recorded()).toEqual([])
    await writer().apply(withId('retry-me', [tanstack.insert(todo(2, 'two'))]), ctx.db.prisma)
    expect(await todoTitles(ctx.db)).toEqual(['one', 'two'])
  })

  it('concurrent duplicates apply once: the second waits for the first and answers with its txid', async () => {
    const batch = withId('twice', [tanstack.insert(todo(1, 'once'))])
    const results = await Promise.all([writer().apply(batch, ctx.db.prisma), writer().apply(batch, ctx.db.prisma), writer().apply(batch, ctx.db.prisma)])
    expect(results.filter((r) => !r.replayed)).toHaveLength(1)
    expect(new Set(results.map((r) => r.txid)).size).toBe(1)
    expect(await todoTitles(ctx.db)).toEqual(['once'])
  })

  it('the JSON format carries it as id; transact records it too', async () => {
    const json = { id: 'json-1', operations: [{ type: 'insert', table: 'todos', data: todo(1, 'json') }] }
    const first = await writer().apply(json, ctx.db.prisma, { format: 'json' })
    expect(await writer().apply(json, ctx.db.prisma, { format: 'json' })).toEqual({ txid: first.txid, changes: [], replayed: true })
    let calls = 0
    const apply = () => transact(withId('tx-1', [tanstack.insert(todo(2))]), ctx.db.prisma, async (op, tx) => {
      calls++
      await tx.todo.create({ data: { id: op.data.id as string, title: 'transact', ownerId: 'u1' } })
    })
    const a = await apply()
    expect(await apply()).toEqual(a)
    expect(calls).toBe(1)
  })

  it('bad ids are BAD_REQUEST; exactlyOnce: false ignores ids; a missing table is named', async () => {
    for (const id of ['', 'has space', 'x'.repeat(201), 42]) {
      expect(await writerError(writer().apply(withId(id as string, [tanstack.insert(todo(1))]), ctx.db.prisma))).toMatchObject({ step: 'parse', kind: 'invalid', operationIndex: 0 })
    }
    const batch = withId('ignored', [tanstack.insert(todo(1, 'a'))])
    await writer().apply(batch, ctx.db.prisma, { exactlyOnce: false })
    expect(await recorded()).toEqual([])
    // a server misconfiguration, not the client's fault: a plain Error (INTERNAL_SERVER_ERROR through tRPC)
    const missing = await writer().apply(withId('x', [tanstack.insert(todo(2))]), ctx.db.prisma, { exactlyOnce: { table: 'no_such_table' } }).catch((e: Error) => e)
    expect(missing).toBeInstanceOf(Error)
    expect((missing as Error).message).toMatch(/no_such_table, which does not exist: create it with ensureWriterTables/)
    expect(await todoTitles(ctx.db)).toEqual(['a'])
  })

  it('createWriterTablesSql is the migration that created the table', async () => {
    const { readFileSync } = await import('node:fs')
    const migration = readFileSync(new URL('../../prisma/migrations/0002_writer_batches/migration.sql', import.meta.url), 'utf8')
    expect(migration).toContain(createWriterTablesSql() + ';')
    expect(writerBatchesTable).toBe('trpc_sync_batches')
  })
})
