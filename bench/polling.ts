// Baseline: what tRPC apps do without a sync layer — each of 1,000 clients polls its shape with Prisma
// once a second. Same workload as the tRPC fan-out (100 shapes of 10 users' todos, a tick updates one
// row in each shape); latency is from COMMIT to the first poll that returns the new value.
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from '../generated/prisma/client.js'
import type { PostgresServer } from '../src/testing/postgres.js'
import { createBenchDatabase, percentile, round, sleep } from './support.js'

const SHAPES = 100
const owner = (i: number) => `user${i % SHAPES}`

export async function runPollingBench(server: PostgresServer, { quick }: { quick: boolean }): Promise<Record<string, number>> {
  const db = await createBenchDatabase(server)
  const pool = new pg.Pool({ connectionString: db.url, max: 2 })
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url, max: 10 }) })
  const clients = 1000
  const ticks = quick ? 4 : 10
  try {
    await pool.query(`INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), 'tick-0', 'user' || (i % ${SHAPES}) FROM generate_series(0, ${SHAPES * 10 - 1}) i`)
    const committedAt = new Map<number, number>()
    const latencies: number[] = []
    let running = true
    const pollers = Array.from({ length: clients }, async (_, i) => {
      let seen = 0
      await sleep(Math.random() * 1000) // clients poll out of phase, as real ones do
      while (running) {
        const started = performance.now()
        const rows = await prisma.todo.findMany({ where: { ownerId: owner(i) } })
        const newest = Math.max(...rows.map((r) => Number(r.title.slice('tick-'.length))))
        if (newest > seen) {
          for (let t = seen + 1; t <= newest; t++) {
            const at = committedAt.get(t)
            if (at !== undefined) latencies.push(performance.now() - at)
          }
          seen = newest
        }
        await sleep(Math.max(0, 1000 - (performance.now() - started)))
      }
    })
    await sleep(1500)
    for (let tick = 1; tick <= ticks; tick++) {
      const client = await pool.connect()
      await client.query('BEGIN')
      await client.query(
        `UPDATE todos SET title = $1 WHERE id IN (SELECT DISTINCT ON (owner_id) id FROM todos ORDER BY owner_id, id)`, [`tick-${tick}`])
      committedAt.set(tick, performance.now())
      await client.query('COMMIT')
      client.release()
      await sleep(1000)
    }
    await sleep(1200)
    running = false
    await Promise.all(pollers)
    return {
      'polling.fanout_1000.p50_ms': round(percentile(latencies, 50)),
      'polling.fanout_1000.p99_ms': round(percentile(latencies, 99)),
    }
  } finally {
    await prisma.$disconnect()
    await pool.end()
    await db.drop()
  }
}
