// tRPC benchmarks: 1,000 WebSocket subscribers over 100 shapes (10 per user's todos), served by
//  - sync.subscription on createSyncWSServer            → trpc.fanout_1000.*
//  - a LISTEN/NOTIFY trigger + stock tRPC over `on()`   → notify.fanout_1000.*
//  - a raw `ws` broadcast of the very frames sync sent  → ws.raw_broadcast.events_per_s (the ceiling)
// and the server's RSS with 10,000 idle subscribers (memory.*). Servers run in a child process
// (bench/trpc-server.ts); clients are plain `ws` sockets speaking tRPC's JSON-RPC in this process.
//
// Latency: a tick is one transaction updating one row of each of the 100 shapes, so every subscriber
// gets one event per tick; ticks at 10/s; measured from just before COMMIT to the client's 'message'.
// Throughput: ticks back to back; events delivered / (last delivery − first commit).
// BENCH_SERVER_ARGS adds Node flags to the server process (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it).
import { fork, type ChildProcess } from 'node:child_process'
import pg from 'pg'
import WebSocket from 'ws'
import type { PostgresServer } from '../src/testing/postgres.js'
import { createBenchDatabase, median, percentile, round, sleep, until, within } from './support.js'

const SHAPES = 100
/** Latency is measured at 10 ticks/s: 10,000 events/s to the 1,000 clients, under every server's capacity here. */
const TICKS_PER_S = 10
const owner = (i: number) => `user${i % SHAPES}`
/** How long a run waits for its deliveries; a client still missing some then is counted as slow. */
const DELIVERY_TIMEOUT_MS = 30_000

export interface Server {
  child: ChildProcess
  port: number
  request<T>(message: object, key: string): Promise<T>
  stop(): Promise<void>
}

export async function startServer(mode: 'sync' | 'isolation' | 'notify' | 'raw' | 'floor', databaseUrl: string): Promise<Server> {
  const child = fork(new URL('./trpc-server.ts', import.meta.url).pathname, [], {
    env: { ...process.env, BENCH_MODE: mode, DATABASE_URL: databaseUrl },
    execArgv: ['--expose-gc', '--import', 'tsx', ...(process.env.BENCH_SERVER_ARGS ? process.env.BENCH_SERVER_ARGS.split(' ') : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const request = <T>(message: object, key: string) => new Promise<T>((resolve, reject) => {
    const onMessage = (reply: Record<string, unknown>) => {
      if (!(key in reply)) return
      child.off('message', onMessage)
      resolve(reply[key] as T)
    }
    child.on('message', onMessage)
    child.once('exit', (code) => reject(new Error(`bench server (${mode}) exited with ${code}`)))
    if (Object.keys(message).length) child.send(message)
  })
  const port = await request<number>({}, 'port')
  return {
    child, port, request,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r))
      child.send({ type: 'exit' })
      await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))])
    },
  }
}

/** One subscriber: a WebSocket speaking tRPC's protocol (connectionParams, one subscription, PONGs). */
class Subscriber {
  readonly socket: WebSocket
  upToDate = false
  /** The server closed the socket (or it failed). */
  closed = false
  /** The last text frame holding a change (sampled for the raw broadcast). */
  lastChangeFrame: string | undefined
  onChange: ((title: string, at: number) => void) | undefined
  readonly ready: Promise<void>

  constructor(port: number, readonly userId: string) {
    this.socket = new WebSocket(`ws://127.0.0.1:${port}/trpc?connectionParams=1`)
    let resolve!: () => void
    let reject!: (e: Error) => void
    this.ready = new Promise((res, rej) => { resolve = res; reject = rej })
    this.socket.on('open', () => {
      this.socket.send(JSON.stringify({ method: 'connectionParams', data: { userId } }))
      this.socket.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'todos.sync', input: { json: null } } }))
    })
    this.socket.on('error', reject)
    this.socket.on('close', () => {
      this.closed = true
      reject(new Error('closed before up-to-date'))
    })
    this.socket.on('message', (data) => {
      const at = performance.now()
      const text = data.toString()
      if (text === 'PING') return this.socket.send('PONG')
      const message = JSON.parse(text)
      if (message.error) return reject(new Error(JSON.stringify(message.error)))
      const json = message.result?.data?.json
      if (!json) return
      const event = json.data !== undefined && json.id !== undefined ? json.data : json // tracked or not
      // A change may carry its batch's up-to-date (`upToDate: true`).
      if ((event.type === 'up-to-date' || event.upToDate) && !this.upToDate) {
        this.upToDate = true
        resolve()
      }
      if (event.type === 'update' || event.type === 'insert') {
        this.lastChangeFrame = text
        this.onChange?.(event.row.title, at)
      }
    })
  }

  close(): void {
    this.socket.terminate()
  }
}

/** Connects `count` subscribers; one not up to date in time (or refused) stays in the list and is counted later. */
async function connect(port: number, count: number, from = 0, parallel = 200): Promise<Subscriber[]> {
  const subscribers: Subscriber[] = []
  for (let i = 0; i < count; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - i) }, (_, j) => new Subscriber(port, owner(from + i + j)))
    await within(Promise.allSettled(batch.map((s) => s.ready)), DELIVERY_TIMEOUT_MS)
    subscribers.push(...batch)
  }
  return subscribers
}

/** Subscribers that had fewer than `expected` of the run's events when it stopped waiting. */
function slowCount(received: Map<Subscriber, number>, subscribers: Subscriber[], expected: number): number {
  return subscribers.filter((s) => (received.get(s) ?? 0) < expected).length
}

/** One tick: a transaction setting the title of each shape's hot row. */
async function tick(pool: pg.Pool, hotIds: string[], n: number, commits: Map<number, number>): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query(`UPDATE todos SET title = $1 WHERE id = ANY($2::uuid[])`, [`tick ${n}`, hotIds])
    commits.set(n, performance.now())
    await client.query('COMMIT')
  } finally {
    client.release()
  }
}

const tickOf = (title: string) => (title.startsWith('tick ') ? Number(title.slice(5)) : -1)

/** Commit → client latencies (ms) over `ticks` ticks at `perSecond`, and how many clients were slow. */
async function latencies(
  pool: pg.Pool, hotIds: string[], subscribers: Subscriber[], ticks: number, perSecond: number, first: number,
): Promise<{ samples: number[]; slow: number }> {
  const commits = new Map<number, number>()
  const samples: number[] = []
  const received = new Map<Subscriber, number>()
  let expected = 0
  for (const s of subscribers) s.onChange = (title, at) => {
    const n = tickOf(title)
    if (n >= first && commits.has(n)) {
      samples.push(at - commits.get(n)!)
      received.set(s, (received.get(s) ?? 0) + 1)
    }
  }
  const start = performance.now()
  for (let i = 0; i < ticks; i++) {
    await tick(pool, hotIds, first + i, commits)
    expected += subscribers.length
    const wait = start + ((i + 1) * 1000) / perSecond - performance.now()
    if (wait > 0) await sleep(wait)
  }
  await until(() => samples.length >= expected, DELIVERY_TIMEOUT_MS)
  return { samples, slow: slowCount(received, subscribers, ticks) }
}

/** Events/s delivered with ticks back to back, and how many clients were slow. */
async function throughput(pool: pg.Pool, hotIds: string[], subscribers: Subscriber[], ticks: number, first: number): Promise<{ rate: number; slow: number }> {
  const commits = new Map<number, number>()
  const received = new Map<Subscriber, number>()
  let delivered = 0
  let last = 0
  for (const s of subscribers) s.onChange = (title, at) => {
    if (tickOf(title) >= first) {
      delivered++
      last = at
      received.set(s, (received.get(s) ?? 0) + 1)
    }
  }
  const start = performance.now()
  for (let i = 0; i < ticks; i++) await tick(pool, hotIds, first + i, commits)
  await until(() => delivered >= ticks * subscribers.length, 2 * DELIVERY_TIMEOUT_MS)
  return { rate: delivered / ((last - start) / 1000), slow: slowCount(received, subscribers, ticks) }
}

/** The raw ceiling: the same frames, broadcast by a bare `ws` server to 1,000 bare clients. */
async function rawBroadcast(databaseUrl: string, frames: string[], clients: number, ticks: number): Promise<{ rate: number; slow: number }> {
  const server = await startServer('raw', databaseUrl)
  const sockets: WebSocket[] = []
  const received = new Map<WebSocket, number>()
  let delivered = 0
  let last = 0
  try {
    for (let i = 0; i < clients; i += 200) {
      await within(Promise.allSettled(Array.from({ length: Math.min(200, clients - i) }, (_, j) => new Promise<void>((resolve, reject) => {
        const socket = new WebSocket(`ws://127.0.0.1:${server.port}/raw?group=${(i + j) % SHAPES}`)
        socket.once('message', () => {
          socket.on('message', (data) => {
            JSON.parse(data.toString()) // the same client work as a subscriber's
            delivered++
            last = performance.now()
            received.set(socket, (received.get(socket) ?? 0) + 1)
          })
          resolve()
        })
        socket.on('error', reject)
        sockets.push(socket)
      }))), DELIVERY_TIMEOUT_MS)
    }
    const start = performance.now()
    server.child.send({ type: 'broadcast', frames, ticks })
    await until(() => delivered >= ticks * clients, 2 * DELIVERY_TIMEOUT_MS)
    return { rate: delivered / ((last - start) / 1000), slow: sockets.filter((s) => (received.get(s) ?? 0) < ticks).length }
  } finally {
    for (const socket of sockets) socket.terminate()
    await server.stop()
  }
}

/** RSS (MB) of a server with `count` idle subscribers, and its growth per subscriber (KB). */
async function idleMemory(mode: 'sync' | 'notify' | 'floor', databaseUrl: string, count: number): Promise<{ mb: number; kbPerSubscriber: number; slow: number }> {
  const server = await startServer(mode, databaseUrl)
  const subscribers: Subscriber[] = []
  try {
    subscribers.push(...await connect(server.port, SHAPES)) // every shape exists before the baseline
    await sleep(500)
    const base = await server.request<number>({ type: 'memory' }, 'memory')
    subscribers.push(...await connect(server.port, count - SHAPES, SHAPES))
    await sleep(1000)
    const rss = await server.request<number>({ type: 'memory' }, 'memory')
    const slow = subscribers.filter((s) => !s.upToDate || s.closed).length
    return { mb: round(rss / 2 ** 20, 1), kbPerSubscriber: round((rss - base) / (count - SHAPES) / 1024, 2), slow }
  } finally {
    for (const s of subscribers) s.close()
    await server.stop()
  }
}

async function fanout(mode: 'sync' | 'notify', databaseUrl: string, pool: pg.Pool, hotIds: string[], quick: boolean) {
  const server = await startServer(mode, databaseUrl)
  const subscribers = await connect(server.port, 1000)
  try {
    await latencies(pool, hotIds, subscribers, 10, TICKS_PER_S, 0) // warm-up
    // Medians of runs: the machine is shared, and one disturbed run should not decide the figure.
    const p50s: number[] = []
    const p99s: number[] = []
    // Clients that missed events of a run when it stopped waiting (the most in any run).
    let slow = 0
    for (let run = 0; run < (quick ? 1 : 3); run++) {
      const { samples, slow: late } = await latencies(pool, hotIds, subscribers, quick ? 30 : 60, TICKS_PER_S, 1000 * (run + 1))
      p50s.push(percentile(samples, 50))
      p99s.push(percentile(samples, 99))
      slow = Math.max(slow, late)
    }
    const rates: number[] = []
    const ticks = quick ? 30 : 100
    const cpuBefore = await server.request<number>({ type: 'cpu' }, 'cpu')
    for (let run = 0; run < (quick ? 1 : 3); run++) {
      const { rate, slow: late } = await throughput(pool, hotIds, subscribers, ticks, 10_000 * (run + 1))
      rates.push(rate)
      slow = Math.max(slow, late)
    }
    const cpu = await server.request<number>({ type: 'cpu' }, 'cpu') - cpuBefore
    const usPerEvent = (cpu * 1000) / (rates.length * ticks * subscribers.length)
    const rate = median(rates)
    // Each shape's frame, from any of its subscribers that had one (a slow client may have none).
    const sample = (group: number) => subscribers.find((s, i) => i % SHAPES === group && s.lastChangeFrame)?.lastChangeFrame
      ?? subscribers.find((s) => s.lastChangeFrame)?.lastChangeFrame ?? '{}'
    const frames = Array.from({ length: SHAPES }, (_, group) => sample(group).replace(/tick \d+/, 'tick __TICK__'))
    const closed = subscribers.filter((s) => s.closed).length
    return { p50: median(p50s), p99: median(p99s), rate, usPerEvent, frames, slow, closed }
  } finally {
    for (const s of subscribers) s.close()
    await server.stop()
  }
}

export async function runTrpcBench(server: PostgresServer, { quick }: { quick: boolean }): Promise<Record<string, number>> {
  const db = await createBenchDatabase(server)
  const pool = new pg.Pool({ connectionString: db.url, max: 4 })
  try {
    // 100 users with 10 todos each; one "hot" todo per user is updated by every tick.
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), 'todo ' || i, 'user' || (i % ${SHAPES}) FROM generate_series(0, ${SHAPES * 10 - 1}) i RETURNING id`)
    const hotIds = rows.slice(0, SHAPES).map((r) => r.id)

    const sync = await fanout('sync', db.url, pool, hotIds, quick)
    const raw = await rawBroadcast(db.url, sync.frames, 1000, quick ? 30 : 100)
    const memory = await idleMemory('sync', db.url, 10_000)

    await pool.query(`
      CREATE FUNCTION bench_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('todo_changes', json_build_object('op', lower(TG_OP), 'row', row_to_json(COALESCE(NEW, OLD)))::text);
        RETURN NULL;
      END $$;
      CREATE TRIGGER bench_notify AFTER INSERT OR UPDATE OR DELETE ON todos FOR EACH ROW EXECUTE FUNCTION bench_notify();`)
    const notify = await fanout('notify', db.url, pool, hotIds, quick)
    // The stock way's memory, and the floor: stock tRPC + ws with a subscription that holds nothing.
    const notifyMemory = quick ? undefined : await idleMemory('notify', db.url, 10_000)
    const floorMemory = quick ? undefined : await idleMemory('floor', db.url, 10_000)

    return {
      'trpc.fanout_1000.p50_ms': round(sync.p50, 2),
      'trpc.fanout_1000.p99_ms': round(sync.p99, 2),
      'trpc.fanout_1000.events_per_s': Math.round(sync.rate),
      'trpc.fanout_1000.server_us_per_event': round(sync.usPerEvent, 1),
      'trpc.fanout_1000.slow_clients': sync.slow,
      'trpc.fanout_1000.closed_clients': sync.closed,
      'ws.raw_broadcast.events_per_s': Math.round(raw.rate),
      'ws.raw_broadcast.slow_clients': raw.slow,
      'notify.fanout_1000.p50_ms': round(notify.p50, 2),
      'notify.fanout_1000.p99_ms': round(notify.p99, 2),
      'notify.fanout_1000.events_per_s': Math.round(notify.rate),
      'notify.fanout_1000.server_us_per_event': round(notify.usPerEvent, 1),
      'notify.fanout_1000.slow_clients': notify.slow,
      'notify.fanout_1000.closed_clients': notify.closed,
      'memory.subscribers_10000.mb': memory.mb,
      'memory.subscribers_10000.slow_clients': memory.slow,
      'memory.subscribers_10000.kb_per_subscriber': memory.kbPerSubscriber,
      ...(notifyMemory && {
        'memory.notify_subscribers_10000.mb': notifyMemory.mb,
        'memory.notify_subscribers_10000.kb_per_subscriber': notifyMemory.kbPerSubscriber,
      }),
      ...(floorMemory && {
        'memory.floor_subscribers_10000.mb': floorMemory.mb,
        'memory.floor_subscribers_10000.kb_per_subscriber': floorMemory.kbPerSubscriber,
      }),
    }
  } finally {
    await pool.end()
    await db.drop()
  }
}

