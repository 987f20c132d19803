// Isolation benchmark (issue 13, case 2): an honest client's commit → client latency over a tRPC
// subscription (real WebSocket, bench/trpc-server.ts in isolation mode) while another connection holds
// 10,000 distinct `title: { contains }` shapes and writes 5,000-row batches, each row matching one of its
// shapes; beside the same figure without the attacker.
//   isolation.victim_p99_ms           with the attacker (its shapes open, a batch every 500 ms)
//   isolation.victim_p99_ms.baseline  the same server and victim, before the attacker connects
//   isolation.victim_p99_ratio        the two (target <= 2)
// The victim's tick: one UPDATE of its one row at 10/s, measured from just before COMMIT to its 'message'.
import pg from 'pg'
import WebSocket from 'ws'
import type { PostgresServer } from '../src/testing/postgres.js'
import { createBenchDatabase, percentile, round, sleep } from './support.js'
import { startServer } from './trpc.js'

const TICKS_PER_S = 10
const BATCH_EVERY_MS = 500

/** A tRPC WebSocket client: subscriptions by id, each reporting its events (tracked or not). */
class Client {
  readonly socket: WebSocket
  private readonly upToDate = new Set<number>()
  private wanted = 0
  private ready: (() => void) | undefined
  onEvent: ((id: number, event: { type: string; row?: { title: string } }, at: number) => void) | undefined
  readonly opened: Promise<void>

  constructor(port: number, userId: string) {
    this.socket = new WebSocket(`ws://127.0.0.1:${port}/trpc?connectionParams=1`)
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => {
        this.socket.send(JSON.stringify({ method: 'connectionParams', data: { userId } }))
        resolve()
      })
      this.socket.once('error', reject)
    })
    this.socket.on('message', (data) => {
      const at = performance.now()
      const text = data.toString()
      if (text === 'PING') return this.socket.send('PONG')
      const message = JSON.parse(text)
      if (message.error) throw new Error(`bench: subscription ${message.id} failed: ${JSON.stringify(message.error)}`)
      const json = message.result?.data?.json
      if (!json) return
      const event = json.data !== undefined && json.id !== undefined ? json.data : json
      if (event.type === 'up-to-date' && !this.upToDate.has(message.id)) {
        this.upToDate.add(message.id)
        if (this.upToDate.size >= this.wanted) this.ready?.()
      }
      this.onEvent?.(message.id, event, at)
    })
  }

  /** Opens subscriptions `first..first+count-1` and resolves once each was up to date. */
  async subscribe(path: string, inputs: unknown[], first = 1): Promise<void> {
    await this.opened
    this.wanted += inputs.length
    const done = new Promise<void>((resolve) => (this.ready = resolve))
    inputs.forEach((input, i) => this.socket.send(JSON.stringify({ id: first + i, method: 'subscription', params: { path, input: { json: input } } })))
    await done
  }

  close(): void {
    this.socket.terminate()
  }
}

/** Victim latencies (ms) over `ticks` ticks; `during` runs alongside (the attack) and is stopped after. */
async function victimLatencies(pool: pg.Pool, victim: Client, rowId: string, ticks: number, first: number): Promise<number[]> {
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
      commits.set(first + i, performance.now())
      await client.query('COMMIT')
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

export async function runIsolationBench(server: PostgresServer, { quick }: { quick: boolean }): Promise<Record<string, number>> {
  const shapes = quick ? 300 : 10_000
  const batchRows = quick ? 1000 : 5000
  const ticks = quick ? 30 : 100
  const db = await createBenchDatabase(server)
  const pool = new pg.Pool({ connectionString: db.url, max: 4 })
  const srv = await startServer('isolation', db.url)
  const victim = new Client(srv.port, 'victim')
  const attacker = new Client(srv.port, 'attacker')
  let attacking = true
  try {
    const { rows } = await pool.query<{ id: string }>(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'tick -1', 'victim') RETURNING id`)
    await victim.subscribe('todos.sync', [null])
    await victimLatencies(pool, victim, rows[0]!.id, 10, 0) // warm-up
    const baseline = await victimLatencies(pool, victim, rows[0]!.id, ticks, 1000)

    await attacker.subscribe('todos.search', Array.from({ length: shapes }, (_, i) => ({ term: `<term${i}>` })))
    let received = 0
    attacker.onEvent = (_id, event) => { if (event.type === 'insert') received++ }
    let batches = 0
    const insertBatch = async () => {
      await pool.query(
        `INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), 'spam ' || i || ' <term' || (i % $2) || '>', 'attacker' FROM generate_series(1, $1) i`,
        [batchRows, shapes])
      batches++
    }
    const allReceived = async () => {
      // Every attacker row reached its shape: the attack was routed in full, not dropped.
      const deadline = Date.now() + 120_000
      while (received < batches * batchRows) {
        if (Date.now() > deadline) throw new Error(`bench: the attacker got ${received} of ${batches * batchRows} rows`)
        await sleep(10)
      }
    }
    // Warm-up, as for the baseline: the first batch also pays the server's JIT for the attacker's paths.
    await insertBatch()
    await allReceived()
    const attack = (async () => {
      while (attacking) {
        const started = performance.now()
        await insertBatch()
        await sleep(Math.max(0, started + BATCH_EVERY_MS - performance.now()))
      }
    })()
    const attacked = await victimLatencies(pool, victim, rows[0]!.id, ticks, 2000)
    attacking = false
    await attack
    await allReceived()
    const p99 = percentile(attacked, 99)
    const base = percentile(baseline, 99)
    return {
      'isolation.victim_p99_ms': round(p99, 2),
      'isolation.victim_p99_ms.baseline': round(base, 2),
      'isolation.victim_p99_ratio': round(p99 / base, 2),
      'isolation.victim_p50_ms': round(percentile(attacked, 50), 2),
      'isolation.attacker_shapes': shapes,
      'isolation.attacker_rows_per_batch': batchRows,
    }
  } finally {
    attacking = false
    victim.close()
    attacker.close()
    await srv.stop()
    await pool.end()
    await db.drop()
  }
}
