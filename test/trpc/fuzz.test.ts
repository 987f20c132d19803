// Fuzzing the client-facing inputs of a shape subscription: random filters (well-formed, malformed and
// hostile) and random lastEventIds. Every attempt either streams rows of the caller's own shape or is
// refused with BAD_REQUEST; never an internal error, never another user's row, and the server keeps
// serving. (`__proto__` and `constructor` keys are refused by the client's serializer before they are sent.)
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { record, startApp, until, type TestApp } from './support.js'

let app: TestApp
beforeAll(async () => {
  app = await startApp()
  await app.db.sql(`INSERT INTO todos (id, title, owner_id, is_completed)
    SELECT gen_random_uuid(), t, o, (i % 2 = 0) FROM unnest(ARRAY['a%','b_','c\\\\', 'Robert''); DROP TABLE todos; --', 'é']) WITH ORDINALITY AS x(t, i), unnest(ARRAY['alice','bob']) AS o`)
})
afterAll(async () => { await app?.close() })

const hostile = fc.oneof(fc.string(), fc.constantFrom("'; DROP TABLE todos; --", '%', '_', '\\', '$1', '"ownerId"', 'owner_id', '\u0000', '1=1) OR (1=1'))
const scalar = fc.oneof(hostile, fc.integer(), fc.double(), fc.boolean(), fc.constant(null))
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
const input = fc.oneof(
  fc.record({ where }),
  fc.record({ where, lastEventId: fc.oneof(fc.string(), fc.constant('i:0:0_0:1-1:AAAA')) }),
  fc.anything(),
)

describe('fuzzing subscription inputs', () => {
  it('answers rows of the caller only, or BAD_REQUEST; never an internal error', async () => {
    const client = app.client('alice')
    await fc.assert(fc.asyncProperty(input, async (value) => {
      const attempt = record(client.todos.sync, value)
      try {
        await until(() => attempt.error !== undefined || attempt.upToDates > 0, 'an answer', 10_000)
        if (attempt.error) {
          expect(attempt.error.data?.code, String(attempt.error.message)).toBe('BAD_REQUEST')
          return
        }
        for (const data of attempt.data()) {
          if (data.type === 'insert' || data.type === 'update' || data.type === 'delete') expect(data.row.ownerId).toBe('alice')
        }
      } finally {
        attempt.stop()
      }
    }), { numRuns: Number(process.env.FC_NUM_RUNS ?? 150), seed: Number(process.env.FC_SEED ?? 7) })

    // Still serving, and the table is intact.
    const check = record(client.todos.sync, {})
    await until(() => check.upToDates > 0, 'a normal subscription')
    expect(check.data().filter((d) => d.type === 'insert')).toHaveLength(5)
    check.stop()
  }, 120_000)
})
