// Property tests: whatever a client sends, the Writer answers with a WriterError (never a TypeError or a
// crash) and writes nothing. Random JSON, and near-valid batches that end with an operation bound to fail.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { TRPCError, initTRPC } from '@trpc/server'
import { z } from 'zod'
import { Writer, WriterError, writerMutation } from '../../src/writer/index.js'
import { tanstack, uid, useDatabase } from './support.js'

const ctx = useDatabase()

const writer = () => new Writer()
  .allow(ctx.db.prisma.todo)
  .allow(ctx.db.prisma.allTypes)
  .allow(ctx.db.prisma.membership)
  .allow(ctx.db.prisma.issue, { accept: ['insert'] })

async function totalRows(): Promise<number> {
  const [row] = await ctx.db.sql<{ n: number }>(`SELECT (SELECT count(*) FROM todos) + (SELECT count(*) FROM all_types)
    + (SELECT count(*) FROM memberships) + (SELECT count(*) FROM issues) + (SELECT count(*) FROM projects) AS n`)
  return Number(row!.n)
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => new Error('the batch was applied'), (e: unknown) => e)
}

// Near-valid rows: the right keys (as fields or columns) with mostly well-typed values, sometimes garbage,
// over a small pool of keys so that later operations hit rows written earlier in the batch.
const sometimesGarbage = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: good, weight: 20 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 })
const id = fc.constantFrom(uid(1), uid(2), uid(3))
const text = fc.oneof({ arbitrary: fc.string({ maxLength: 12 }), weight: 20 }, { arbitrary: fc.constant('nul\u0000'), weight: 1 })
const iso = fc.date({ min: new Date(-1e14), max: new Date(1e14), noInvalidDate: true }).map((d) => d.toISOString())
const field = <T>(names: string[], arb: fc.Arbitrary<T>) => fc.tuple(fc.constantFrom(...names), sometimesGarbage(arb))
const rowOf = (fields: fc.Arbitrary<[string, unknown]>[]) =>
  fc.subarray(fields.map((_, i) => i), { minLength: 1 }).chain((picked) => fc.tuple(...picked.map((i) => fields[i]!)))
    .map((entries) => Object.fromEntries(entries) as Record<string, unknown>)
const models = {
  todos: rowOf([
    field(['id'], id), field(['title'], text), field(['completed', 'is_completed'], fc.oneof(fc.boolean(), fc.constantFrom('t', 'f', 'yes'))),
    field(['ownerId', 'owner_id'], text), field(['createdAt', 'created_at'], iso),
  ]),
  all_types: rowOf([
    field(['id'], id), field(['str'], fc.option(text)), field(['bool'], fc.boolean()), field(['int', 'int_value'], fc.oneof(fc.integer(), fc.double())),
    field(['big'], fc.oneof(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String), fc.integer())),
    field(['float'], fc.oneof(fc.double(), fc.constantFrom('NaN', 'Infinity'))),
    field(['dec'], fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('1e30', '0.1', '-5', 'NaN'))),
    field(['date'], fc.oneof(iso, fc.integer())), field(['json'], fc.jsonValue({ maxDepth: 3 })),
    field(['bytes'], fc.oneof(fc.base64String({ maxLength: 8 }), fc.constantFrom('\\x00ff', '\\x0'), fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 4 }))),
    field(['status'], fc.constantFrom('open', 'in progress', 'in_progress', 'done', 'closed', null)),
    field(['strs'], fc.array(text, { maxLength: 3 })), field(['ints'], fc.array(fc.integer(), { maxLength: 3 })),
  ]),
  memberships: rowOf([field(['userId', 'user_id'], text), field(['projectId', 'project_id'], id), field(['role'], text)]),
  issues: rowOf([field(['id'], id), field(['title'], text), field(['status'], fc.constantFrom('open', 'done', 'nope')), field(['priority'], fc.integer()), field(['projectId', 'project_id'], id)]),
}
const relationFor = (table: keyof typeof models) =>
  fc.oneof({ arbitrary: fc.constantFrom<unknown>(table, `public.${table}`, ['public', table], ['client', table]), weight: 12 }, { arbitrary: fc.jsonValue({ maxDepth: 1 }), weight: 1 })
const mutation = fc.constantFrom(...Object.keys(models) as (keyof typeof models)[]).chain((table) => fc.record({
  type: sometimesGarbage(fc.constantFrom('insert', 'update', 'delete')),
  modified: models[table],
  original: models[table],
  changes: models[table],
  syncMetadata: fc.record({ relation: relationFor(table) }),
}))
// The last operation of every near-valid batch fails: it updates a row that does not exist.
const doomed = { type: 'update', original: { id: uid(999_999) }, changes: { title: 'x' }, syncMetadata: { relation: 'todos' } }

describe('fuzz', () => {
  it('random JSON is a WriterError of kind invalid, for every format, and writes nothing', async () => {
    await fc.assert(fc.asyncProperty(fc.jsonValue(), fc.constantFrom('tanstack' as const, 'json' as const), async (batch, format) => {
      const error = await rejection(writer().apply(batch, ctx.db.prisma, { format }))
      expect(error).toBeInstanceOf(WriterError)
      expect((error as WriterError).kind).toBe('invalid')
    }), { numRuns: 300 })
    expect(await totalRows()).toBe(0)
  })

  it('near-valid TanStack DB batches are rejected with a WriterError (never kind "error") and roll back', async () => {
    await fc.assert(fc.asyncProperty(fc.array(mutation, { maxLength: 5 }), async (ops) => {
      const error = await rejection(writer().apply([...ops, doomed], ctx.db.prisma))
      expect(error).toBeInstanceOf(WriterError)
      expect((error as WriterError).kind).not.toBe('error')
      expect(await totalRows()).toBe(0)
    }), { numRuns: 200 })
  })

  it('near-valid JSON-format batches likewise', async () => {
    const operation = mutation.map((m) => ({ type: m.type, table: m.syncMetadata.relation, data: m.type === 'insert' ? m.modified : m.original, changes: m.changes }))
    await fc.assert(fc.asyncProperty(fc.array(operation, { maxLength: 5 }), async (ops) => {
      const batch = { operations: [...ops, { type: 'update', table: 'todos', data: { id: uid(999_999) }, changes: {} }] }
      const error = await rejection(writer().apply(batch, ctx.db.prisma, { format: 'json' }))
      expect(error).toBeInstanceOf(WriterError)
      expect((error as WriterError).kind).not.toBe('error')
      expect(await totalRows()).toBe(0)
    }), { numRuns: 100 })
  })

  it('through tRPC, random input is never an internal server error', async () => {
    const t = initTRPC.create()
    const router = t.router({ mutate: t.procedure.input(z.unknown()).mutation(writerMutation({ prisma: ctx.db.prisma })(writer)) })
    const caller = router.createCaller({})
    await fc.assert(fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.array(mutation, { maxLength: 3 }).map((ops) => [...ops, doomed])), async (batch) => {
      const error = await rejection(caller.mutate(batch))
      expect(error).toBeInstanceOf(TRPCError)
      expect((error as TRPCError).code).not.toBe('INTERNAL_SERVER_ERROR')
      expect((error as TRPCError).cause).toBeInstanceOf(WriterError)
    }), { numRuns: 100 })
    expect(await totalRows()).toBe(0)
  })
})

describe('fuzz: forged originals and replays', () => {
  // u1 writes with the README's rule; rows 1-3 are u1's, 4-6 are u2's.
  const owned = () => new Writer().allow(ctx.db.prisma.todo, { authorize: (row) => row.ownerId === 'u1' || 'not yours' })
  const seed = async () => {
    await ctx.db.sql('TRUNCATE todos, trpc_sync_batches')
    for (let n = 1; n <= 6; n++) await ctx.db.sql('INSERT INTO todos (id, title, owner_id) VALUES ($1, $2, $3)', [uid(n), `todo ${n}`, n <= 3 ? 'u1' : 'u2'])
  }
  const theirs = () => ctx.db.sql(`SELECT id, title, owner_id, is_completed FROM todos WHERE id IN ($1, $2, $3) ORDER BY id`, [uid(4), uid(5), uid(6)])
  const anyId = fc.integer({ min: 1, max: 7 }).map(uid)
  // originals that claim u1 owns whatever row they name, plus random changes (sometimes a new owner or key)
  const forgedOp = fc.record({
    type: fc.constantFrom('update', 'delete', 'insert'),
    id: anyId,
    claim: fc.constantFrom({ ownerId: 'u1' }, { owner_id: 'u1', title: 'mine' }, {}),
    changes: fc.record({ title: fc.string({ maxLength: 5 }), ownerId: fc.constantFrom('u1', 'u2'), id: anyId }, { requiredKeys: [] }),
    fresh: fc.integer({ min: 100, max: 1_000_000 }),
  }).map(({ type, id, claim, changes, fresh }) => type === 'insert'
    ? tanstack.insert({ id: uid(fresh), title: 'new', ownerId: changes.ownerId ?? 'u1' })
    : type === 'update' ? tanstack.update({ id, ...claim }, changes) : tanstack.delete({ id, ...claim }))

  it("no batch of forged originals changes another user's rows; refused batches write nothing", async () => {
    await seed()
    const before = await theirs()
    await fc.assert(fc.asyncProperty(fc.array(forgedOp, { minLength: 1, maxLength: 4 }), async (ops) => {
      const all = await ctx.db.sql('SELECT id, title, owner_id FROM todos ORDER BY id')
      const outcome = await owned().apply(ops, ctx.db.prisma).then(() => 'applied', (e: unknown) => e)
      if (outcome !== 'applied') {
        expect(outcome).toBeInstanceOf(WriterError)
        expect((outcome as WriterError).kind).not.toBe('error')
        expect(await ctx.db.sql('SELECT id, title, owner_id FROM todos ORDER BY id')).toEqual(all)
      }
      expect(await theirs()).toEqual(before)
      expect((await ctx.db.sql(`SELECT count(*)::int AS n FROM todos WHERE owner_id <> 'u1' AND id NOT IN ($1, $2, $3)`, [uid(4), uid(5), uid(6)]))[0].n).toBe(0)
    }), { numRuns: 150 })
  })

  it('a batch replayed any number of times applies once and always answers the first txid', async () => {
    let batches = 0
    await fc.assert(fc.asyncProperty(fc.array(forgedOp, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 3 }), async (ops, replays) => {
      await seed()
      const batch = [{ ...ops[0]!, mutationId: `fuzz-${++batches}` }, ...ops.slice(1)]
      const first = await owned().apply(batch, ctx.db.prisma).then((r) => r, (e: unknown) => e)
      const state = await ctx.db.sql('SELECT id, title, owner_id, is_completed FROM todos ORDER BY id')
      for (let i = 0; i < replays; i++) {
        const again = await owned().apply(structuredClone(batch), ctx.db.prisma).then((r) => r, (e: unknown) => e)
        if (first instanceof WriterError) {
          // a refused batch recorded nothing: it is refused again the same way
          expect(again).toBeInstanceOf(WriterError)
          expect((again as WriterError).reason).toBe(first.reason)
        } else {
          expect(again).toEqual({ txid: (first as { txid: number }).txid, changes: [], replayed: true })
        }
        expect(await ctx.db.sql('SELECT id, title, owner_id, is_completed FROM todos ORDER BY id')).toEqual(state)
      }
    }), { numRuns: 60 })
  })
})
