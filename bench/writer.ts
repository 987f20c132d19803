// Write path: a 10-operation batch through the Writer's tRPC mutation vs a hand-written Prisma
// interactive transaction doing the same writes; and what each change-feed costs the write path:
// single-row commits/s over 8 connections with the engine attached, with a bare pgoutput consumer on a
// slot of its own (the floor for any logical-replication design), with NOTIFY triggers, with nothing.
import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication'
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

/** A bare pgoutput consumer on a slot of its own, acknowledging each commit: the floor for any logical-replication design. */
async function attachRawSlot(url: string): Promise<() => Promise<void>> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  const slot = `bench_raw_${randomBytes(4).toString('hex')}`
  await admin.query(`CREATE PUBLICATION bench_raw_pub FOR TABLE todos`).catch(() => {})
  await admin.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot])
  const service = new LogicalReplicationService({ connectionString: url }, { acknowledge: { auto: false, timeoutSeconds: 0 } })
  service.on('data', (lsn: string, message: { tag: string }) => {
    if (message.tag === 'commit') void service.acknowledge(lsn)
  })
  service.on('error', () => {})
  const started = new Promise<void>((r) => service.once('start', () => r()))
  void service.subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: ['bench_raw_pub'] }), slot).catch(() => {})
  await started
  return async () => {
    await service.destroy()
    await admin.query(`SELECT pg_drop_replication_slot($1)`, [slot]).catch(() => {})
    await admin.end()
  }
}

type FeedMode = 'none' | 'notify' | 'raw_slot' | 'sync'

/** Attaches one change feed; resolves to its detach. */
async function attach(mode: FeedMode, url: string, admin: pg.Client): Promise<() => Promise<void>> {
  switch (mode) {
    case 'none':
      return async () => {}
    case 'notify': {
      await admin.query(`CREATE OR REPLACE FUNCTION bench_notify() RETURNS trigger AS $$
        BEGIN PERFORM pg_notify('todos', row_to_json(NEW)::text); RETURN NEW; END $$ LANGUAGE plpgsql`)
      await admin.query(`CREATE TRIGGER bench_notify AFTER INSERT OR UPDATE ON todos FOR EACH ROW EXECUTE FUNCTION bench_notify()`)
      const listener = new pg.Client({ connectionString: url })
      await listener.connect()
      await listener.query('LISTEN todos')
      return async () => {
        await listener.end()
        await admin.query(`DROP TRIGGER bench_notify ON todos`)
      }
    }
    case 'raw_slot':
      return attachRawSlot(url)
    case 'sync': {
      const sync = createSync({ databaseUrl: url, engine: { slotName: `bench_${randomBytes(4).toString('hex')}`, temporarySlot: true } })
      const live = sync.live(sync.shape({ table: 'todos', where: 'owner_id = $1', params: ['someone-else'] }))
      await live.ready
      return async () => {
        live.close()
        await sync.close()
      }
    }
  }
}

/**
 * Commits/s with each change feed attached. The feeds take turns over several rounds (the median of
 * each is reported) on an emptied table, so machine noise, checkpoints and table growth fall on all alike.
 */
async function writeCost(url: string, seconds: number, rounds: number): Promise<Record<string, number>> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  const modes: FeedMode[] = ['none', 'notify', 'raw_slot', 'sync']
  const rates = new Map<FeedMode, number[]>(modes.map((m) => [m, []]))
  try {
    for (let round = 0; round < rounds; round++) {
      for (const mode of modes) {
        await admin.query('TRUNCATE todos')
        await admin.query('CHECKPOINT')
        const detach = await attach(mode, url, admin)
        try {
          rates.get(mode)!.push(await commitsPerSecond(url, seconds * 1000))
        } finally {
          await detach()
        }
      }
    }
  } finally {
    await admin.end()
  }
  const rate = (mode: FeedMode) => median(rates.get(mode)!)
  return {
    'writes.commits_per_s.none': Math.round(rate('none')),
    'writes.commits_per_s.notify': Math.round(rate('notify')),
    'writes.commits_per_s.raw_slot': Math.round(rate('raw_slot')),
    'writes.commits_per_s.sync': Math.round(rate('sync')),
    'writes.sync_ratio_to_raw_slot': round(rate('sync') / rate('raw_slot')),
  }
}

export async function runWriterBench(server: PostgresServer, { quick }: { quick: boolean }): Promise<Record<string, number>> {
  const db = await createBenchDatabase(server)
  try {
    return { ...(await batchOverhead(db.url, quick ? 20 : 100)), ...(await writeCost(db.url, quick ? 2 : 3, quick ? 1 : 3)) }
  } finally {
    await db.drop()
  }
}
