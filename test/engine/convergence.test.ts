// Convergence: random transactions against several concurrent shapes; after the engine has applied
// them, every reader's materialized rows equal the shape's SQL query. Readers that start in the middle
// of the workload converge too. FC_NUM_RUNS raises the number of runs (`--long` mode).
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { LiveReader, shapeOf, startEngine } from '../support/engine.js'
import type { EmbeddedEngine } from '../../src/engine/index.js'
import type { ShapeDefinition } from '../../src/shape/definition.js'

const runs = Number(process.env.FC_NUM_RUNS ?? 50)

let db: TestDatabase
let engine: EmbeddedEngine
beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql(`CREATE TABLE conv (id int PRIMARY KEY, grp int NOT NULL, val text, flag bool NOT NULL DEFAULT false)`)
  engine = await startEngine(db.url, { liveTimeoutMs: 100, chunkBytes: 2000 })
})
afterAll(async () => {
  await engine?.close()
  await db?.drop()
})

const wheres: Pick<ShapeDefinition, 'where' | 'params'>[] = [
  {},
  { where: 'grp = $1', params: ['1'] },
  { where: 'grp IN (2, 3)' },
  { where: 'flag = true' },
  { where: `val LIKE 'a%'` },
  { where: 'grp > $1 AND NOT flag', params: ['2'] },
  { where: 'val IS NULL OR grp = 0' },
  { where: 'id % 3 = 0' },
]

const id = fc.integer({ min: 1, max: 30 })
const grp = fc.integer({ min: 0, max: 4 })
const val = fc.option(fc.constantFrom('a', 'ab', 'b', 'ba', 'c'), { nil: null })
const op = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), rows: fc.array(fc.tuple(id, grp, val, fc.boolean()), { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('update' as const), id, grp, val, flag: fc.boolean() }),
  fc.record({ kind: fc.constant('updateWhere' as const), grp, to: grp }),
  fc.record({ kind: fc.constant('delete' as const), id }),
  fc.record({ kind: fc.constant('rekey' as const), id, to: id }),
)
const transaction = fc.record({ ops: fc.array(op, { minLength: 1, maxLength: 4 }), rollback: fc.boolean().map((b) => b && Math.random() < 0.3) })

async function run(tx: { ops: fc.Arbitrary<unknown> extends never ? never : any[]; rollback: boolean }): Promise<void> {
  const client = await db.pool.connect()
  try {
    await client.query('BEGIN')
    for (const o of tx.ops) {
      await client.query('SAVEPOINT s')
      try {
        if (o.kind === 'insert') {
          for (const [i, g, v, f] of o.rows) {
            await client.query(`INSERT INTO conv VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET grp = EXCLUDED.grp, val = EXCLUDED.val`, [i, g, v, f])
          }
        } else if (o.kind === 'update') {
          await client.query(`UPDATE conv SET grp = $2, val = $3, flag = $4 WHERE id = $1`, [o.id, o.grp, o.val, o.flag])
        } else if (o.kind === 'updateWhere') {
          await client.query(`UPDATE conv SET grp = $2, flag = NOT flag WHERE grp = $1`, [o.grp, o.to])
        } else if (o.kind === 'delete') {
          await client.query(`DELETE FROM conv WHERE id = $1`, [o.id])
        } else {
          await client.query(`UPDATE conv SET id = $2 WHERE id = $1`, [o.id, o.to])
        }
        await client.query('RELEASE SAVEPOINT s')
      } catch {
        await client.query('ROLLBACK TO SAVEPOINT s') // e.g. a key change onto an existing key
      }
    }
    await client.query(tx.rollback ? 'ROLLBACK' : 'COMMIT')
  } finally {
    client.release()
  }
}

export async function expectConverged(engineUnderTest: EmbeddedEngine, database: TestDatabase, readers: { reader: LiveReader; def: ShapeDefinition }[]) {
  const lsn = await engineUnderTest.flush()
  for (const { reader, def } of readers) {
    await reader.reached(lsn)
    const expected = await database.sql(
      `SELECT id::text, grp::text, val::text, (CASE WHEN flag THEN 't' ELSE 'f' END) AS flag FROM conv ${def.where ? `WHERE ${def.where}` : ''} ORDER BY conv.id`,
      def.params,
    )
    const actual = [...reader.state.rows.values()]
      .map((r): Record<string, string | null | undefined> => ({ ...r, flag: r.flag === 'true' ? 't' : r.flag === 'false' ? 'f' : r.flag }))
      .sort((a, b) => Number(a.id) - Number(b.id))
    expect(actual, `shape ${def.where ?? '(all)'}`).toEqual(expected)
  }
}

describe('convergence', () => {
  it(`readers converge to the shape's query (${runs} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(transaction, { minLength: 1, maxLength: 12 }),
        fc.subarray(wheres, { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 12 }),
        async (transactions, chosen, lateStart) => {
          await db.sql('DELETE FROM conv')
          const defs = chosen.map((w) => shapeOf('conv', { ...w, replica: Math.random() < 0.5 ? 'full' : 'default' }))
          const readers = defs.map((def) => ({ def, reader: new LiveReader(engine, def) }))
          try {
            for (const [i, tx] of transactions.entries()) {
              if (i === lateStart) readers.push({ def: defs[0]!, reader: new LiveReader(engine, defs[0]!) })
              await run(tx)
            }
            await expectConverged(engine, db, readers)
          } finally {
            await Promise.all(readers.map(({ reader }) => reader.stop()))
          }
        },
      ),
      { numRuns: runs, seed: Number(process.env.FC_SEED ?? 42), endOnFailure: true },
    )
  })
})
