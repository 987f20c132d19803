// Reliability: the demo app under a mixed workload with many subscribers (tRPC and Electric-protocol
// HTTP) while faults are injected — walsender terminated, Postgres restarted, the app server restarted,
// client sockets dropped at random, one client that stops reading. At the end every client's rows equal
// the database, no acknowledged write is missing, and the server's memory is back near
// their baseline. `npm run test:reliability:long` runs a longer workload (RELIABILITY_LONG=1).
import { randomUUID } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import WebSocket from 'ws'
import { Shape, ShapeStream } from '@electric-sql/client'
import { startDemo, type DemoServer } from '../../demo/server.js'
import type { AppRouter } from '../../demo/router.js'
import { createSyncClient, liveShape, type LiveShape, type SyncClient } from '../../client/index.js'
import { startPostgres, type PostgresServer } from '../../src/testing/postgres.js'
import { applyMigrations } from '../../src/testing/migrate.js'
import { waitFor } from '../support/until.js'

const long = process.env.RELIABILITY_LONG === '1'
const rounds = long ? 12 : 3
const writesPerRound = long ? 60 : 20
const trpcClients = long ? 40 : 12
const httpClients = long ? 10 : 4

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const heapMb = () => { gc(); gc(); return process.memoryUsage().heapUsed / 2 ** 20 }

interface Todo { id: string; title: string; completed: boolean; ownerId: string }
type Filter = { ownerId?: string; completed?: boolean }

let postgres: PostgresServer
let pool: pg.Pool
let demo: DemoServer
let port = 0
beforeAll(async () => {
  postgres = await startPostgres({ databaseUrl: '' })
  await applyMigrations(postgres.url, 'prisma/migrations')
  pool = new pg.Pool({ connectionString: postgres.url, max: 4 })
  pool.on('error', () => {})
  demo = await startDemo({ port: 0, databaseUrl: postgres.url, log: () => {} })
  port = Number(new URL(demo.url).port)
})
afterAll(async () => {
  await demo?.close()
  await pool?.end()
  await postgres?.stop()
})

/** Retries a database statement across a restart. */
async function sql(text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await pool.query(text, params)
    } catch (error) {
      if (attempt > 200) throw error
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

async function expected(filter: Filter): Promise<Todo[]> {
  const clauses: string[] = []
  const params: unknown[] = []
  if (filter.ownerId !== undefined) clauses.push(`owner_id = $${params.push(filter.ownerId)}`)
  if (filter.completed !== undefined) clauses.push(`is_completed = $${params.push(filter.completed)}`)
  const { rows } = await sql(
    `SELECT id::text, title, is_completed AS completed, owner_id AS "ownerId" FROM todos ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''}`, params)
  return rows
}

const comparable = (rows: Iterable<Todo>) =>
  [...rows].map(({ id, title, completed, ownerId }) => ({ id, title, completed, ownerId })).sort((a, b) => a.id.localeCompare(b.id))

const eventually = (check: () => Promise<boolean>, what: string, ms = 30_000) => waitFor(() => check().catch(() => false), what, ms, 100)

const started = Date.now()
const step = (what: string) => { if (process.env.RELIABILITY_TRACE) console.error(`[reliability ${((Date.now() - started) / 1000).toFixed(1)}s] ${what}`) }

describe('reliability', () => {
  it(`keeps every client equal to the database through faults (${rounds} rounds)`, async () => {
    const users = ['ann', 'ben', 'cai', 'dee']
    const filters: Filter[] = [{}, ...users.map((ownerId) => ({ ownerId })), { completed: true }, { ownerId: 'ann', completed: false }]
    const baselineHeap = heapMb()

    const clients: { trpc: SyncClient<AppRouter>; shape: LiveShape<Todo>; filter: Filter }[] = []
    for (let i = 0; i < trpcClients; i++) {
      const user = users[i % users.length]!
      const trpc = createSyncClient<AppRouter>({ url: `ws://localhost:${port}/trpc`, WebSocket, connectionParams: { user } })
      const filter = filters[i % filters.length]!
      const shape = liveShape(trpc.todos.sync, { where: filter }) as unknown as LiveShape<Todo>
      clients.push({ trpc, shape, filter })
    }
    const electric = Array.from({ length: httpClients }, () => {
      const stream = new ShapeStream({ url: `http://localhost:${port}/shapes/todos`, backoffOptions: { initialDelay: 50, maxDelay: 500, multiplier: 1.5 } })
      return new Shape(stream)
    })
    // A client that subscribes and then stops reading its socket.
    const stalled = createSyncClient<AppRouter>({ url: `ws://localhost:${port}/trpc`, WebSocket, connectionParams: { user: 'ann' } })
    const stalledShape = liveShape(stalled.todos.sync, {})
    await Promise.all(clients.map((c) => c.shape.ready))
    await stalledShape.ready
    step('clients ready')
    const stalledSocket = (stalled.$ws as unknown as { connection?: { ws?: { _socket?: { pause(): void } } } }).connection?.ws?._socket
    stalledSocket?.pause()

    const acknowledged: string[] = []
    let failedWrites = 0
    const writer = createSyncClient<AppRouter>({ url: `ws://localhost:${port}/trpc`, WebSocket, connectionParams: { user: 'ben' } })
    async function workload(round: number): Promise<void> {
      for (let i = 0; i < writesPerRound; i++) {
        const id = randomUUID()
        try {
          const { txid } = await writer.todos.mutate.mutate([{ type: 'insert', modified: { id, title: `r${round}-${i}`, completed: i % 3 === 0 } }])
          if (txid) acknowledged.push(id)
        } catch {
          // Not acknowledged (the app or database was restarting): it may or may not have been written.
          failedWrites++
        }
        const owner = users[i % users.length]!
        await sql(`INSERT INTO todos (id, title, owner_id, is_completed) VALUES (gen_random_uuid(), $1, $2, $3)`, [`sql-${round}-${i}`, owner, i % 2 === 0])
        if (i % 4 === 0) await sql(`UPDATE todos SET is_completed = NOT is_completed WHERE id IN (SELECT id FROM todos WHERE title LIKE 'sql-%' ORDER BY random() LIMIT 2)`)
        if (i % 5 === 0) await sql(`DELETE FROM todos WHERE id IN (SELECT id FROM todos WHERE title LIKE 'sql-%' ORDER BY random() LIMIT 1)`)
        if (i % 7 === 0) await sql(`UPDATE todos SET owner_id = $1 WHERE id IN (SELECT id FROM todos WHERE title LIKE 'sql-%' ORDER BY random() LIMIT 1)`, [users[(i + 1) % users.length]])
      }
    }
    const faults = [
      async () => { await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_replication`) },
      async () => { await postgres.restart() },
      async () => {
        await demo.close()
        demo = await startDemo({ port, databaseUrl: postgres.url, log: () => {} })
      },
      async () => {
        // Drop a third of the client sockets from the client side, abruptly.
        for (const [i, c] of clients.entries()) {
          if (i % 3 !== 0) continue
          const ws = (c.trpc.$ws as unknown as { connection?: { ws?: WebSocket } }).connection?.ws
          ws?.terminate()
        }
      },
    ]
    for (let round = 0; round < rounds; round++) {
      const writing = workload(round)
      await new Promise((r) => setTimeout(r, 50))
      step(`round ${round}: fault ${round % faults.length}`)
      await faults[round % faults.length]!()
      if (round === 0) await faults[3]!() // socket drops in every run
      step(`round ${round}: fault done`)
      await writing
      step(`round ${round}: writes done (${acknowledged.length} acknowledged, ${failedWrites} failed)`)
    }

    // Every acknowledged write is in the database, and every client converges to its filter's rows.
    const { rows } = await sql(`SELECT id::text FROM todos WHERE id = ANY($1::uuid[])`, [acknowledged])
    expect(rows.length).toBe(acknowledged.length)
    step('acknowledged writes present')
    for (const { shape, filter } of clients) {
      await eventually(async () => JSON.stringify(comparable(shape.rows.values())) === JSON.stringify(comparable(await expected(filter))),
        `tRPC client ${JSON.stringify(filter)} to converge`)
    }
    for (const shape of electric) {
      await eventually(async () => {
        const all = await expected({})
        const mine = shape.currentRows.map((r) => String(r.id)).sort()
        return JSON.stringify(mine) === JSON.stringify(all.map((r) => r.id).sort())
      }, 'HTTP client to converge')
    }

    step('all clients converged')
    // Close everything: the server's readers and heap return near their baseline.
    for (const { trpc, shape } of clients) { shape.close(); await trpc.$close() }
    stalledShape.close()
    await stalled.$close()
    await writer.$close()
    for (const shape of electric) shape.stream.unsubscribeAll()
    await new Promise((r) => setTimeout(r, 500))
    const heap = heapMb()
    expect(heap - baselineHeap).toBeLessThan(long ? 80 : 60)
  }, long ? 600_000 : 180_000)
})
