// Engine benchmarks: ingest into one shape's log vs raw pgoutput decoding of the same workload,
// routing cost per change with 10 / 1,000 / 10,000 equality or contains shapes, and commit → sync.stream latency.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication'
import { EmbeddedEngine } from '../src/engine/index.js'
import { createSync } from '../src/sync/sync.js'
import type { Transaction } from '../src/engine/transaction.js'
import type { PostgresServer } from '../src/testing/postgres.js'
import { createBenchDatabase, median, medianOf, percentile, round, sleep } from './support.js'

const todoShape = { namespace: 'public', table: 'todos', replica: 'default' as const }

async function insertTodos(pool: pg.Pool, rows: number): Promise<void> {
  await pool.query(
    `INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), 'todo ' || i, 'user' || (i % 100) FROM generate_series(1, $1) i`,
    [rows],
  )
}

/** Rows/s from commit until the engine has the whole transaction in the shape's log. */
async function ingestOnce(url: string, pool: pg.Pool, rows: number): Promise<number> {
  const engine = await EmbeddedEngine.start({ databaseUrl: url, slotName: `bench_${randomBytes(4).toString('hex')}`, temporarySlot: true })
  try {
    await engine.fetch(todoShape, { offset: '-1' })
    const before = engine.stats().entries
    await insertTodos(pool, rows)
    const start = performance.now()
    await engine.flush()
    const elapsed = performance.now() - start
    if (engine.stats().entries - before !== rows) throw new Error(`ingest: expected ${rows} entries, got ${engine.stats().entries - before}`)
    return rows / (elapsed / 1000)
  } finally {
    await engine.close()
    await pool.query('TRUNCATE todos')
  }
}

/** The ceiling: pg-logical-replication's own decoding, acknowledging once per commit. */
async function rawOnce(url: string, pool: pg.Pool, rows: number): Promise<number> {
  const slot = `bench_raw_${randomBytes(4).toString('hex')}`
  await pool.query(`CREATE PUBLICATION bench_raw_pub FOR TABLE todos`).catch(() => {})
  await pool.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot])
  const service = new LogicalReplicationService({ connectionString: url }, { acknowledge: { auto: false, timeoutSeconds: 0 } })
  let seen = 0
  let done!: () => void
  const finished = new Promise<void>((r) => (done = r))
  service.on('data', (lsn: string, message: { tag: string }) => {
    if (message.tag === 'insert') seen++
    if (message.tag === 'commit') {
      void service.acknowledge(lsn)
      if (seen >= rows) done()
    }
  })
  service.on('error', () => {})
  void service.subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: ['bench_raw_pub'] }), slot).catch(() => {})
  await new Promise<void>((r) => service.once('start', () => r()))
  await insertTodos(pool, rows)
  const start = performance.now()
  await finished
  const elapsed = performance.now() - start
  await service.destroy()
  await pool.query(`SELECT pg_drop_replication_slot($1)`, [slot]).catch(() => {})
  await pool.query('TRUNCATE todos')
  return rows / (elapsed / 1000)
}

async function currentXid(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const { rows } = await client.query<{ xid: string }>(`SELECT pg_current_xact_id()::xid::text AS xid`)
  await client.end()
  return Number(rows[0]!.xid)
}

async function tableOid(url: string, table: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const { rows } = await client.query<{ oid: number }>(`SELECT $1::regclass::oid::int AS oid`, [table])
  await client.end()
  return rows[0]!.oid
}

/**
 * Microseconds the engine spends routing one change into the logs, with `shapes` equality shapes
 * (`owner_id = $1`) or `contains` shapes (`title LIKE '%<term>%'`, Prisma's `title: { contains }`).
 */
async function routingOnce(url: string, shapes: number, changes: number, kind: 'equality' | 'contains' = 'equality'): Promise<number> {
  const engine = await EmbeddedEngine.start({ databaseUrl: url, slotName: `bench_${randomBytes(4).toString('hex')}`, temporarySlot: true, poolSize: 8 })
  try {
    const owners = Array.from({ length: shapes }, (_, i) => `owner${i}`)
    for (let i = 0; i < owners.length; i += 64) {
      await Promise.all(owners.slice(i, i + 64).map((owner) => engine.fetch(kind === 'equality'
        ? { ...todoShape, where: '"owner_id" = $1', params: [owner] }
        : { ...todoShape, where: '"title" LIKE $1', params: [`%<${owner}>%`] }, { offset: '-1' })))
    }
    // The table's own oid: a change under another oid is another table under the name, which rotates every shape.
    const oid = await tableOid(url, 'todos')
    const relation = { oid, namespace: 'public', table: 'todos', columns: [] }
    // A transaction that began after every shape's snapshot, as a real one would.
    const tx: Transaction = {
      xid: await currentXid(url) + 1000, lsn: 1n << 40n, endLsn: '0/0',
      changes: Array.from({ length: changes }, (_, i) => ({
        kind: 'insert' as const, relation,
        // Each change matches one shape among the same ten, whatever the shape count: what is measured is
        // what the other shapes cost a change (with an index, nothing), not cache misses of cold logs.
        record: {
          id: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, title: kind === 'equality' ? 't' : `todo ${i} for <${owners[i % 10]!}>`,
          is_completed: 'f', owner_id: kind === 'equality' ? owners[i % 10]! : 'u', created_at: '2026-01-01 00:00:00+00',
        },
      })),
    }
    const apply = (engine as unknown as { apply(tx: Transaction): Promise<void> }).apply.bind(engine)
    const times: number[] = []
    const entries = engine.stats().entries
    for (let round = 0; round < 5; round++) {
      tx.lsn += 1n
      const start = process.hrtime.bigint()
      await apply(tx)
      times.push(Number(process.hrtime.bigint() - start) / 1000 / changes)
    }
    // Each change went to its one shape: the figure measures routing, not changes dropped on the way.
    const routed = engine.stats().entries - entries
    if (routed !== 5 * changes) throw new Error(`routing bench: ${routed} log entries for ${5 * changes} changes`)
    return median(times)
  } finally {
    await engine.close()
  }
}

/** Commit → sync.stream reader latencies (ms) for single-row commits. */
async function latency(url: string, pool: pg.Pool, commits: number): Promise<number[]> {
  const sync = createSync({ databaseUrl: url, engine: { slotName: `bench_${randomBytes(4).toString('hex')}`, temporarySlot: true } })
  const shape = sync.shape(todoShape)
  const controller = new AbortController()
  const arrivals = new Map<string, number>()
  let ready!: () => void
  const isReady = new Promise<void>((r) => (ready = r))
  const reading = (async () => {
    for await (const event of sync.stream(shape, { signal: controller.signal })) {
      if (event.type === 'up-to-date') ready()
      if (event.type === 'insert') arrivals.set(String((event.row as { title: string }).title), performance.now())
    }
  })().catch(() => {})
  await isReady
  const latencies: number[] = []
  for (let i = 0; i < commits; i++) {
    const title = `latency ${i}`
    const client = await pool.connect()
    await client.query('BEGIN')
    await client.query(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), $1, 'u')`, [title])
    const committed = performance.now()
    await client.query('COMMIT')
    client.release()
    while (!arrivals.has(title)) await sleep(0)
    latencies.push(arrivals.get(title)! - committed)
  }
  controller.abort()
  await sync.close()
  await reading
  await pool.query('TRUNCATE todos')
  return latencies
}

export async function runEngineBench(server: PostgresServer, { quick }: { quick: boolean }): Promise<Record<string, number>> {
  const db = await createBenchDatabase(server)
  const pool = new pg.Pool({ connectionString: db.url, max: 4 })
  try {
    const rows = quick ? 20_000 : 100_000
    const reps = quick ? 1 : 3
    const raw = await medianOf(reps, () => rawOnce(db.url, pool, rows))
    const ingest = await medianOf(reps, () => ingestOnce(db.url, pool, rows))
    const sizes = quick ? [10, 100, 1000] : [10, 1000, 10_000]
    const routing: Record<string, number> = {}
    for (const size of sizes) routing[`routing.us_per_change.shapes_${size}`] = round(await routingOnce(db.url, size, 20_000))
    for (const size of sizes) routing[`routing.us_per_change.contains_${size}`] = round(await routingOnce(db.url, size, 20_000, 'contains'))
    const lat = await latency(db.url, pool, quick ? 100 : 500)
    return {
      'ingest.rows_per_s': Math.round(ingest),
      'pgoutput.raw_rows_per_s': Math.round(raw),
      'ingest.ratio_to_raw': round(ingest / raw),
      ...routing,
      [`routing.ratio_${sizes[2]}_to_10`]: round(routing[`routing.us_per_change.shapes_${sizes[2]}`]! / routing['routing.us_per_change.shapes_10']!),
      [`routing.contains_ratio_${sizes[2]}_to_10`]: round(routing[`routing.us_per_change.contains_${sizes[2]}`]! / routing['routing.us_per_change.contains_10']!),
      'latency.commit_to_stream.p50_ms': round(percentile(lat, 50)),
      'latency.commit_to_stream.p99_ms': round(percentile(lat, 99)),
    }
  } finally {
    await pool.end()
    await db.drop()
  }
}
