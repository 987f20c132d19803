// Write path: a 10-operation batch through the Writer's tRPC mutation vs a hand-written Prisma
// interactive transaction doing the same writes; and what each change-feed costs the write path:
// single-row commits/s over 8 connections with the engine attached, with NOTIFY triggers, with nothing.
import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/prisma/client.js'
import { Writer } from '../src/writer/index.js'
import { createSync } from '../src/sync/sync.js'
import type { PostgresServer } from '../src/testing/postgres.js'
import { createBenchDatabase, median, round } from './support.js'

/** Median ms of a 10-operation batch: Writer mutation (recording its id) vs plain $transaction. */
async function batchOverhead(url: string, reps: number): Promise<Record<string, number>> {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) })
  const sync = createSync({ prisma, databaseUrl: url })
  const mutate = sync.mutation(() => new Writer().allow(prisma.todo))
  // Each mutation has its TanStack DB mutationId: the Writer records the batch's id (exactly once).
  const batch = () => Array.from({ length: 10 }, () => ({
    type: 'insert' as const,
    mutationId: randomUUID(),
    modified: { id: randomUUID(), title: 'bench', ownerId: 'u1', completed: false },
  }))
  const writer: number[] = []
  const plain: number[] = []
  for (let i = 0; i < reps + 5; i++) {
    // Alternate so both see the same machine noise; the first rounds warm up.
    const a = batch()
    let start = performance.now()
    await mutate({ ctx: {}, input: a })
    const w = performance.now() - start
    const b = batch()
    start = performance.now()
    await prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT pg_current_xact_id()::xid::text`
      for (const m of b) await tx.todo.create({ data: m.modified })
    })
    const p = performance.now() - start
    if (i >= 5) { writer.push(w); plain.push(p) }
  }
  await prisma.$disconnect()
  await sync.close()
  const w = median(writer)
  const p = median(plain)
  return { 'writer.batch10.ms': round(w), 'prisma.tx10.ms': round(p), 'writer.overhead_ratio': round(w / p) }
}

/** Single-row commits per second from 8 connections for `ms`. */
async function commitsPerSecond(url: string, ms: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: 8 })
  let commits = 0
  const deadline = Date.now() + ms
  await Promise.all(Array.from({ length: 8 }, async () => {
    const client = await pool.connect()
    while (Date.now() < deadline) {
      await client.query(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'w', 'u')`)
      commits++
    }
    client.release()
  }))
  await pool.end()
  return commits / (ms / 1000)
}

async function writeCost(url: string, seconds: number): Promise<Record<string, number>> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  const none = await commitsPerSecond(url, seconds * 1000)

  await admin.query(`CREATE OR REPLACE FUNCTION bench_notify() RETURNS trigger AS $$
    BEGIN PERFORM pg_notify('todos', row_to_json(NEW)::text); RETURN NEW; END $$ LANGUAGE plpgsql`)
  await admin.query(`CREATE TRIGGER bench_notify AFTER INSERT OR UPDATE ON todos FOR EACH ROW EXECUTE FUNCTION bench_notify()`)
  const listener = new pg.Client({ connectionString: url })
  await listener.connect()
  await listener.query('LISTEN todos')
  const notify = await commitsPerSecond(url, seconds * 1000)
  await listener.end()
  await admin.query(`DROP TRIGGER bench_notify ON todos`)

  const sync = createSync({ databaseUrl: url, engine: { slotName: `bench_${randomBytes(4).toString('hex')}`, temporarySlot: true } })
  const live = sync.live(sync.shape({ table: 'todos', where: 'owner_id = $1', params: ['someone-else'] }))
  await live.ready
  const withSync = await commitsPerSecond(url, seconds * 1000)
  live.close()
  await sync.close()
  await admin.end()
  return {
    'writes.commits_per_s.none': Math.round(none),
    'writes.commits_per_s.notify': Math.round(notify),
    'writes.commits_per_s.sync': Math.round(withSync),
  }
}

export async function runWriterBench(server: PostgresServer, { quick }: { quick: boolean }): Promise<Record<string, number>> {
  const db = await createBenchDatabase(server)
  try {
    return { ...(await batchOverhead(db.url, quick ? 20 : 100)), ...(await writeCost(db.url, quick ? 2 : 5)) }
  } finally {
    await db.drop()
  }
}
