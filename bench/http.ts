// HTTP endpoint benchmarks:
// - http.initial_sync_100k.ms: a 100k-row shape through sync.handler into Electric's ShapeStream until
//   up-to-date (a new shape each time: snapshot query, chunking, serving, client parsing), against
//   prisma.find_many_100k.ms, findMany of the same rows; `.warm_ms` is the same read of a shape whose
//   log already exists (what every client after the first gets); `.server_ms` / `.warm_server_ms` are the
//   same reads with the bodies downloaded but not parsed (the server's share; the rest is the client's).
// - http.longpoll_1000.p50_ms / .p99_ms: 1,000 concurrent long-poll clients on one shape (in a worker
//   thread, so they do not share the server's event loop), one committed insert → each client has it.
// Run alone with `npx tsx bench/http.ts [--quick]`; `runHttpBench` is what bench/index.ts calls.
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { ShapeStream } from '@electric-sql/client'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from '../generated/prisma/client.js'
import { createSync, type Sync } from '../src/sync/sync.js'
import { startPostgres, type PostgresServer } from '../src/testing/postgres.js'
import { createBenchDatabase, median, percentile, round, sleep, until, within } from './support.js'

export async function runHttpBench(server: PostgresServer, { quick }: { quick: boolean }): Promise<Record<string, number>> {
  const rows = quick ? 10_000 : 100_000
  const clients = quick ? 100 : 1000
  const repetitions = quick ? 2 : 5
  const db = await createBenchDatabase(server)
  const pool = new pg.Pool({ connectionString: db.url, max: 4 })
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) })
  const sync = createSync({ prisma, databaseUrl: db.url, engine: { slotName: `bench_${randomBytes(4).toString('hex')}`, temporarySlot: true } })
  const http = await listen(sync)
  try {
    await pool.query(
      `INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), 'todo number ' || i, 'user' || (i % 100) FROM generate_series(1, $1) i`,
      [rows],
    )
    await pool.query('VACUUM ANALYZE todos')
    const results: Record<string, number> = {}

    const cold: number[] = []
    const warm: number[] = []
    const coldServer: number[] = []
    const warmServer: number[] = []
    for (let i = 0; i < repetitions; i++) {
      // A where clause that keeps every row but is new each time: a new shape, snapshotted from Postgres.
      const url = `${http.url}/shape?rep=${i}`
      http.where = `owner_id <> 'nobody-${i}'`
      cold.push(await syncAll(url, rows))
      warm.push(await syncAll(url, rows))
      // The server's part alone: the same requests, their bodies read but not parsed.
      http.where = `owner_id <> 'nobody-raw-${i}'`
      coldServer.push(await downloadAll(`${http.url}/shape?raw=${i}`))
      warmServer.push(await downloadAll(`${http.url}/shape?raw=${i}`))
    }
    const findMany: number[] = []
    for (let i = 0; i < repetitions; i++) {
      const start = performance.now()
      const found = await prisma.todo.findMany()
      findMany.push(performance.now() - start)
      if (found.length !== rows) throw new Error(`findMany returned ${found.length} rows`)
    }
    results['http.initial_sync_100k.ms'] = round(median(cold), 1)
    results['http.initial_sync_100k.warm_ms'] = round(median(warm), 1)
    results['prisma.find_many_100k.ms'] = round(median(findMany), 1)
    results['http.initial_sync_100k.ratio_to_find_many'] = round(median(cold) / median(findMany), 2)
    results['http.initial_sync_100k.server_ms'] = round(median(coldServer), 1)
    results['http.initial_sync_100k.warm_server_ms'] = round(median(warmServer), 1)

    const latency = await longPoll(sync, http, pool, clients, repetitions)
    results['http.longpoll_1000.p50_ms'] = round(latency.p50, 2)
    results['http.longpoll_1000.p99_ms'] = round(latency.p99, 2)
    results['http.longpoll_1000.slow_clients'] = latency.slow
    return results
  } finally {
    http.server.closeAllConnections()
    await new Promise((r) => http.server.close(r))
    await sync.close()
    await prisma.$disconnect()
    await pool.end()
    await db.drop()
  }
}

interface Listening {
  server: Server
  url: string
  /** The where clause of `/shape` (set per repetition). */
  where: string
}

async function listen(sync: Sync): Promise<Listening> {
  const state: Listening = { server: undefined!, url: '', where: 'true' }
  const shape = sync.handler(() => sync.shape({ table: 'todos', where: state.where }))
  const live = sync.handler(sync.shape({ table: 'todos', where: `owner_id = 'live'` }))
  state.server = createServer((req, res) => void (req.url!.startsWith('/live') ? live(req, res) : shape(req, res)))
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r))
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`
  return state
}

/** ms until a ShapeStream (parsing every row, as an app would) reaches up-to-date with `rows` rows. */
async function syncAll(url: string, rows: number): Promise<number> {
  const start = performance.now()
  let count = 0
  await new Promise<void>((resolve, reject) => {
    const stream = new ShapeStream({ url, subscribe: false })
    stream.subscribe((messages) => {
      for (const m of messages) {
        if ('key' in m) count++
        else if (m.headers.control === 'up-to-date') {
          stream.unsubscribeAll()
          resolve()
        }
      }
    }, reject)
  })
  if (count !== rows) throw new Error(`initial sync: ${count} rows, expected ${rows}`)
  return performance.now() - start
}

/** How long a repetition waits for every client; one that has not got the change by then is slow. */
const DELIVERY_TIMEOUT_MS = 30_000

/** ms to read every response of a shape up to up-to-date without parsing them (the server's share of syncAll). */
async function downloadAll(url: string): Promise<number> {
  const start = performance.now()
  let response = await fetch(`${url}&offset=-1`)
  await response.arrayBuffer()
  while (!response.headers.has('electric-up-to-date')) {
    const { headers } = response
    response = await fetch(`${url}&offset=${headers.get('electric-offset')}&handle=${headers.get('electric-handle')}`)
    await response.arrayBuffer()
  }
  return performance.now() - start
}

/**
 * Commit → client latency for `clients` long-polls on one shape: every client holds a live request;
 * one insert is committed; each client's time from sending the INSERT to having parsed the change.
 * p50 / p99 per repetition, then the median of each over the repetitions; `slow`: the most clients that
 * had not got the change (or whose connection failed) when a repetition stopped waiting.
 */
async function longPoll(sync: Sync, http: Listening, pool: pg.Pool, clients: number, repetitions: number) {
  const worker = new Worker(clientWorker, { eval: true, workerData: { url: `${http.url}/live`, clients } })
  const messages: { type: string; id?: string; at?: number[] }[] = []
  let wake = () => {}
  worker.on('message', (m) => {
    messages.push(m)
    wake()
  })
  worker.on('error', (error) => console.error(`[bench] long-poll clients failed: ${error.message}`))
  /** The next message of `type` (about repetition `id`), or undefined after `timeoutMs`. */
  const next = async (type: string, timeoutMs = DELIVERY_TIMEOUT_MS, id?: string) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = messages.findIndex((m) => m.type === type && m.id === id)
      if (i >= 0) return messages.splice(i, 1)[0]!
      const left = deadline - Date.now()
      if (left <= 0) return undefined
      await within(new Promise<void>((r) => (wake = r)), left)
    }
  }
  const held = () => {
    let n = 0
    sync.interrupt(() => {
      n++
      return false
    })
    return n
  }
  const p50: number[] = []
  const p99: number[] = []
  let slow = 0
  try {
    await next('ready', 2 * DELIVERY_TIMEOUT_MS)
    for (let rep = 0; rep < repetitions; rep++) {
      await until(() => held() >= clients, DELIVERY_TIMEOUT_MS)
      await sleep(50)
      worker.postMessage({ type: 'expect', id: `rep-${rep}` })
      // Timed from sending the (autocommit) INSERT: its reply can reach this busy event loop after the
      // clients already have the change, so "after COMMIT returned" would understate the latency.
      const committed = performance.timeOrigin + performance.now()
      await pool.query(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), $1, 'live')`, [`rep-${rep}`])
      let received = await next('received', DELIVERY_TIMEOUT_MS, `rep-${rep}`)
      if (!received) {
        worker.postMessage({ type: 'report' }) // what arrived in time
        received = await next('received', 5000, `rep-${rep}`)
      }
      const at = received?.at ?? []
      slow = Math.max(slow, clients - at.length)
      const latencies = at.map((t) => t - committed)
      p50.push(percentile(latencies, 50))
      p99.push(percentile(latencies, 99))
    }
  } finally {
    await worker.terminate()
  }
  return { p50: median(p50), p99: median(p99), slow }
}

/** The clients: raw long-poll loops over keep-alive sockets, as light as a client can be. */
const clientWorker = `
const { parentPort, workerData } = require('node:worker_threads')
const http = require('node:http')
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })
const { url, clients } = workerData
let expected = null
let times = []
parentPort.on('message', (m) => {
  if (m.type === 'expect') { expected = m.id; times = [] }
  if (m.type === 'report') parentPort.postMessage({ type: 'received', id: expected, at: times })
})
function get(query) {
  return new Promise((resolve, reject) => {
    http.get(url + '?' + query, { agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ headers: res.headers, body }))
    }).on('error', reject)
  })
}
async function client(ready) {
  let r = await get('offset=-1')
  let handle = r.headers['electric-handle'], offset = r.headers['electric-offset'], cursor = ''
  while (!('electric-up-to-date' in r.headers)) {
    r = await get('offset=' + offset + '&handle=' + handle)
    offset = r.headers['electric-offset']
  }
  ready()
  for (;;) {
    r = await get('offset=' + offset + '&handle=' + handle + '&live=true&cursor=' + cursor)
    const at = performance.timeOrigin + performance.now()
    offset = r.headers['electric-offset']
    cursor = r.headers['electric-cursor']
    if (expected && r.body.includes(expected)) {
      JSON.parse(r.body)
      times.push(at)
      if (times.length === clients) parentPort.postMessage({ type: 'received', id: expected, at: times })
    }
  }
}
let readyCount = 0
// A client whose request fails stops (it is counted as slow by the parent); the others go on.
for (let i = 0; i < clients; i++) client(() => { if (++readyCount === clients) parentPort.postMessage({ type: 'ready' }) }).catch(() => {})
`

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = await startPostgres()
  try {
    console.log(JSON.stringify(await runHttpBench(server, { quick: process.argv.includes('--quick') })))
  } finally {
    await server.stop()
  }
}
