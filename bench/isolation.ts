// Isolation benchmark (issue 13, case 2): an honest client's commit → client latency over a tRPC
// subscription (real WebSocket, bench/trpc-server.ts in isolation mode) while another connection holds
// 10,000 distinct `title: { contains }` shapes and writes 5,000-row batches, each row matching one of its
// shapes; beside the same figure without the attacker.
//   isolation.victim_p99_ms           with the attacker (its shapes open, a batch every 500 ms)
//   isolation.victim_p99_ms.baseline  the same server and victim, before the attacker connects
//   isolation.victim_p99_ratio        the two (target <= 2)
//   isolation.victim_commit_p99_ms    how long the victim's COMMIT took to return, with and without the attacker
//   isolation.victim_p99_ms.writes_only  the same batches written by another connection that holds no shapes: what
//           Postgres (inserting, decoding) and the engine's decoding cost the victim on this machine before the
//           attacker's shapes add anything; isolation.victim_p99_ratio.shapes is the attacked figure over it
//   isolation.server_loop_delay_max_ms[.writes_only|.baseline]  the longest the server's event loop was late in each phase
//   isolation.server_cpu_pct[.writes_only|.baseline]  the server's CPU time over each phase's wall time (100: one core)
// The victim's tick: one UPDATE of its one row at 10/s, measured from just before COMMIT to its 'message'.
import { fork } from 'node:child_process'
import pg from 'pg'
import { Client } from './isolation-client.js'
import type { PostgresServer } from '../src/testing/postgres.js'
import { createBenchDatabase, percentile, round, sleep } from './support.js'
import { startServer } from './trpc.js'

const TICKS_PER_S = 10
const BATCH_EVERY_MS = 500

/**
 * Victim latencies (ms) over `ticks` ticks at TICKS_PER_S, and how long each COMMIT took to return (the
 * database's own share on a machine the attacker's load also keeps busy).
 */
async function victimLatencies(pool: pg.Pool, victim: Client, rowId: string, ticks: number, first: number, commitTimes: number[] = []): Promise<number[]> {
  const commits = new Map<number, number>()
  const samples: number[] = []
  victim.onEvent = (_id, event, at) => {
    if (event.type !== 'update' || !event.row) return
    const n = Number(event.row.title.slice('tick '.length))
    if (commits.has(n)) samples.push(at - commits.get(n)!)
  }
  const start = performance.now()
  for (let i = 0; i < ticks; i++) {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(`UPDATE todos SET title = $1 WHERE id = $2`, [`tick ${first + i}`, rowId])
      const committing = performance.now()
      commits.set(first + i, committing)
      await client.query('COMMIT')
      commitTimes.push(performance.now() - committing)
    } finally {
      client.release()
    }
    const wait = start + ((i + 1) * 1000) / TICKS_PER_S - performance.now()
    if (wait > 0) await sleep(wait)
  }
  const deadline = Date.now() + 60_000
  while (samples.length < ticks) {
    if (Date.now() > deadline) throw new Error(`bench: the victim got ${samples.length} of ${ticks} ticks`)
    await sleep(5)
  }
  return samples
}

/**
 * Writes `rows`-row batches every BATCH_EVERY_MS from this process's own connection, rows no shape selects
 * (another owner, no attacker term), until the returned stop() is called; stop() also deletes them.
 */
function writeBatches(pool: pg.Pool, rows: number): () => Promise<void> {
  let writing = true
  const loop = (async () => {
    while (writing) {
      const started = performance.now()
      await pool.query(`INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), 'bulk ' || i, 'writer' FROM generate_series(1, $1) i`, [rows])
      await sleep(Math.max(0, started + BATCH_EVERY_MS - performance.now()))
    }
  })()
  return async () => {
    writing = false
    await loop
    await pool.query(`DELETE FROM todos WHERE owner_id = 'writer'`)
  }
}

/** The attacker's process (bench/isolation-attacker.ts) and a request/answer over IPC. */
function forkAttacker() {
  const child = fork(new URL('./isolation-attacker.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const request = <T>(message: object, key?: string) => new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`bench: the attacker exited with ${code}`))
    child.once('exit', onExit)
    if (!key) {
      child.send(message)
      child.off('exit', onExit)
      return resolve(undefined as T)
    }
    const onMessage = (reply: Record<string, unknown>) => {
      if (!(key in reply)) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(reply as T)
    }
    child.on('message', onMessage)
    child.send(message)
  })
  return { child, request }
}

export async function runIsolationBench(server: PostgresServer, { quick }: { quick: boolean }): Promise<Record<string, number>> {
  const shapes = quick ? 300 : 10_000
  const batchRows = quick ? 1000 : 5000
  const ticks = quick ? 30 : 100
  const db = await createBenchDatabase(server)
  const pool = new pg.Pool({ connectionString: db.url, max: 4 })
  const srv = await startServer('isolation', db.url)
  const victim = new Client(srv.port, 'victim')
  const attacker = forkAttacker()
  try {
    const { rows } = await pool.query<{ id: string }>(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'tick -1', 'victim') RETURNING id`)
    await victim.subscribe('todos.sync', [null])
    await victimLatencies(pool, victim, rows[0]!.id, 10, 0) // warm-up
    const loopDelay = () => srv.request<{ p99: number; max: number }>({ type: 'loop-delay' }, 'loopDelay')
    // The server's CPU time over a phase, as a share of the phase's wall time (100 = one core busy).
    const cpu = () => srv.request<number>({ type: 'cpu' }, 'cpu')
    const cpuShare = async <T>(phase: () => Promise<T>): Promise<[T, number]> => {
      const [cpu0, t0] = [await cpu(), performance.now()]
      const result = await phase()
      return [result, (100 * (await cpu() - cpu0)) / (performance.now() - t0)]
    }
    await loopDelay()
    const baselineCommits: number[] = []
    const [baseline, baselineCpu] = await cpuShare(() => victimLatencies(pool, victim, rows[0]!.id, ticks, 1000, baselineCommits))
    const baselineDelay = await loopDelay()

    const stopWriting = writeBatches(pool, batchRows)
    await victimLatencies(pool, victim, rows[0]!.id, 10, 1200) // warm-up of the batch paths
    const writesOnlyCommits: number[] = []
    await loopDelay()
    const [writesOnly, writesOnlyCpu] = await cpuShare(() => victimLatencies(pool, victim, rows[0]!.id, ticks, 1300, writesOnlyCommits))
    const writesOnlyDelay = await loopDelay()
    await stopWriting()

    await attacker.request({ type: 'open', port: srv.port, shapes }, 'ready')
    // Warm-up, as for the baseline: the first batches also pay the server's JIT for the attacker's paths.
    await attacker.request({ type: 'attack', databaseUrl: db.url, rows: batchRows, everyMs: BATCH_EVERY_MS })
    await victimLatencies(pool, victim, rows[0]!.id, 10, 1500)
    const attackedCommits: number[] = []
    await loopDelay()
    const [attacked, attackedCpu] = await cpuShare(() => victimLatencies(pool, victim, rows[0]!.id, ticks, 2000, attackedCommits))
    const attackedDelay = await loopDelay()
    const { batches, received } = await attacker.request<{ batches: number; received: number }>({ type: 'stop' }, 'received')
    if (received < batches * batchRows) throw new Error(`bench: the attacker got ${received} of ${batches * batchRows} rows`)
    const p99 = percentile(attacked, 99)
    const base = percentile(baseline, 99)
    const writes = percentile(writesOnly, 99)
    return {
      'isolation.victim_p99_ms': round(p99, 2),
      'isolation.victim_p99_ms.baseline': round(base, 2),
      'isolation.victim_p99_ratio': round(p99 / base, 2),
      'isolation.victim_p99_ms.writes_only': round(writes, 2),
      'isolation.victim_p99_ratio.shapes': round(p99 / writes, 2),
      'isolation.victim_commit_p99_ms.writes_only': round(percentile(writesOnlyCommits, 99), 2),
      'isolation.victim_p50_ms': round(percentile(attacked, 50), 2),
      'isolation.victim_p50_ms.baseline': round(percentile(baseline, 50), 2),
      'isolation.victim_commit_p99_ms': round(percentile(attackedCommits, 99), 2),
      'isolation.victim_commit_p99_ms.baseline': round(percentile(baselineCommits, 99), 2),
      'isolation.server_loop_delay_max_ms': round(attackedDelay.max, 2),
      'isolation.server_loop_delay_max_ms.writes_only': round(writesOnlyDelay.max, 2),
      'isolation.server_loop_delay_max_ms.baseline': round(baselineDelay.max, 2),
      'isolation.server_cpu_pct': round(attackedCpu, 1),
      'isolation.server_cpu_pct.writes_only': round(writesOnlyCpu, 1),
      'isolation.server_cpu_pct.baseline': round(baselineCpu, 1),
      'isolation.attacker_shapes': shapes,
      'isolation.attacker_rows_per_batch': batchRows,
      'isolation.attacker_batches': batches,
    }
  } finally {
    victim.close()
    if (attacker.child.exitCode === null) attacker.child.kill()
    await srv.stop()
    await pool.end()
    await db.drop()
  }
}
