// Fuzzing the client-facing inputs of a shape subscription: random filters (well-formed, malformed and
// hostile), non-JSON values superjson carries (Date, Map, Set, bigint, Decimal, NaN, undefined), huge
// `in` lists, wheres that superjson's references resolve to huge trees or cycles, and random
// lastEventIds. Every attempt either streams exactly the rows findMany returns for the caller's own
// shape or is refused with BAD_REQUEST; never an internal error, never a wider shape, and the server
// keeps serving. (`__proto__` and `constructor` keys are sent as raw frames in limits.test.ts: the
// client's serializer refuses them.)
import fc from 'fast-check'
import SuperJSON from 'superjson'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/prisma/client.js'
import WebSocket from 'ws'
import { createClientTransformer, createSyncClient } from '../../client/index.js'
import type { AppRouter } from './app.js'
import { byId, record, startApp, until, type TestApp } from './support.js'

let app: TestApp
beforeAll(async () => {
  app = await startApp()
  await app.db.sql(`INSERT INTO todos (id, title, owner_id, is_completed)
    SELECT gen_random_uuid(), t, o, (i % 2 = 0) FROM unnest(ARRAY['a%','b_','c\\\\', 'Robert''); DROP TABLE todos; --', 'é']) WITH ORDINALITY AS x(t, i), unnest(ARRAY['alice','bob']) AS o`)
})
afterAll(async () => { await app?.close() })

const hostile = fc.oneof(fc.string(), fc.constantFrom("'; DROP TABLE todos; --", '%', '_', '\\', '$1', '"ownerId"', 'owner_id', '\u0000', '1=1) OR (1=1', 'a%', 'É'))
/** Values that are not plain JSON but that superjson carries; none may be read as an (empty) filter object. */
const nonJson = fc.oneof(
  fc.date({ noInvalidDate: false }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 5n, 10n ** 30n, undefined),
  fc.constantFrom(new Map([['contains', 'a']]), new Map(), new Set(['a%']), new Set(), new Prisma.Decimal('1.5')),
)
const scalar = fc.oneof(hostile, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), nonJson)
const filter = fc.oneof(
  scalar,
  fc.dictionary(fc.constantFrom('equals', 'not', 'in', 'notIn', 'lt', 'gt', 'contains', 'startsWith', 'endsWith', 'mode', 'search', 'has'), fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }))),
)
const where = fc.letrec((tie) => ({
  where: fc.dictionary(
    fc.constantFrom('completed', 'title', 'ownerId', 'owner_id', 'id', 'AND', 'OR', 'NOT', 'toString', 'valueOf'),
    fc.oneof({ depthSize: 'small' }, filter, tie('where'), fc.array(tie('where'), { maxLength: 2 })),
    { maxKeys: 3 },
  ),
})).where

const sixtyThousand = Array.from({ length: 60_000 }, (_, i) => (i === 59_999 ? 'A%' : `t${i}`))
/** `in` lists around inValues (1,000) and far past it, sensitive or not. */
const hugeIn = fc.record({
  where: fc.record({
    title: fc.record({
      in: fc.oneof(fc.array(fc.constantFrom('a%', 'b_', 'x', 'É'), { minLength: 995, maxLength: 1005 }), fc.constant(sixtyThousand)),
      mode: fc.constantFrom('insensitive', 'default', undefined),
    }),
  }),
})
/** A where shared `width` times per level, `levels` deep: tiny with superjson's references, huge resolved. */
const shared = fc.tuple(where, fc.integer({ min: 1, max: 18 }), fc.integer({ min: 2, max: 4 })).map(([leaf, levels, width]) => {
  let tree: object = leaf
  for (let i = 0; i < levels; i++) tree = { AND: Array.from({ length: width }, () => tree) }
  return { where: tree }
})
const cyclic = fc.constant(null).map(() => {
  const tree: Record<string, unknown> = { completed: true }
  tree.AND = tree
  return { where: tree }
})

type Attempt = { input: unknown; references: boolean }
const input: fc.Arbitrary<Attempt> = fc.oneof(
  fc.record({ where }),
  fc.record({ where, lastEventId: fc.oneof(fc.string(), fc.constant('i:0:0_0:1-1:AAAA')) }),
  fc.record({ where: fc.oneof(nonJson, fc.constantFrom(new Set([{ title: 'a%' }]), new Map([['title', 'a%']]), [{ title: 'a%' }])) }),
  hugeIn,
  fc.anything(),
).map((value) => ({ input: value, references: false }))
const referential: fc.Arbitrary<Attempt> = fc.oneof(shared, cyclic).map((value) => ({ input: value, references: true }))

/** The rows of the shape, as findMany returns them for the caller's own shape with this where. */
const expectedRows = (where: unknown) => app.db.prisma.todo.findMany({ where: { AND: [{ ownerId: 'alice' }, (where ?? {}) as object] } })

describe('fuzzing subscription inputs', () => {
  it('answers exactly the findMany rows of the caller, or BAD_REQUEST; never an internal error', async () => {
    const client = app.client('alice')
    // A client whose superjson sends each shared subtree once (the rest as references).
    const dedupe = createSyncClientFor(createClientTransformer(new SuperJSON({ dedupe: true })))
    await fc.assert(fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: input }, { weight: 1, arbitrary: referential }), async ({ input: value, references }) => {
      const attempt = record((references ? dedupe : client).todos.sync, value)
      try {
        await until(() => attempt.error !== undefined || attempt.upToDates > 0, 'an answer', 10_000)
        if (attempt.error) {
          expect(attempt.error.data?.code, String(attempt.error.message)).toBe('BAD_REQUEST')
          return
        }
        // The rows since the last must-refetch (a forged lastEventId starts over), up to up-to-date.
        let rows = new Map<string, unknown>()
        for (const data of attempt.data()) {
          if (data.type === 'must-refetch') rows = new Map()
          else if (data.type === 'up-to-date') break
          else if (data.type === 'insert' || data.type === 'update') rows.set(data.row.id, data.row)
          else if (data.type === 'delete') rows.delete(data.row.id)
        }
        const where = (value as { where?: unknown }).where
        expect(byId(rows.values() as Iterable<{ id: string }>), JSON.stringify(where)).toEqual(byId(await expectedRows(where)))
      } finally {
        attempt.stop()
      }
    }), { numRuns: Number(process.env.FC_NUM_RUNS ?? 200), seed: Number(process.env.FC_SEED ?? 7) })

    // Still serving, and the table is intact.
    const check = record(client.todos.sync, {})
    await until(() => check.upToDates > 0, 'a normal subscription')
    expect(check.data().filter((d) => d.type === 'insert')).toHaveLength(5)
    check.stop()
  }, 180_000)
})

const extraClients: { $close(): unknown }[] = []
afterAll(async () => { for (const client of extraClients) await client.$close() })

function createSyncClientFor(transformer: SuperJSON) {
  const client = createSyncClient<AppRouter>({
    url: `ws://127.0.0.1:${app.port}/trpc`, WebSocket: WebSocket as never, connectionParams: { userId: 'alice' }, transformer,
  })
  extraClients.push(client)
  return client
}
