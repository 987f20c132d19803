// Limits of tRPC subscriptions (issue 13; the where limits are in limits.test.ts), with real @trpc/client over real WebSockets on the embedded
// engine: per connection (subscriptionsPerConnection, shapesPerConnection: BAD_REQUEST naming the limit,
// at once, freed when a subscription ends), the server's limit of shapes (TOO_MANY_REQUESTS while every
// shape is being read), and an honest client that keeps getting its changes while another one attacks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { record, startApp, until, type Recording, type TestApp } from './support.js'

let app: TestApp
beforeAll(async () => {
  app = await startApp({ limits: { subscriptionsPerConnection: 5, shapesPerConnection: 3, shapes: 8 } })
})
afterAll(async () => {
  await app?.close()
})

const ready = (r: Recording) => until(() => r.upToDates > 0 || r.error !== undefined, 'the subscription up to date')
const failed = (r: Recording) => until(() => r.error !== undefined, 'an error')
const byTitle = (title: string) => ({ where: { title } })

describe('tRPC subscription limits', () => {
  it('answers a subscription past shapesPerConnection / subscriptionsPerConnection with BAD_REQUEST, until one ends', async () => {
    const client = app.client('carol')
    const open = ['a', 'b', 'c'].map((t) => record(client.todos.sync, byTitle(t)))
    for (const r of open) await ready(r)
    for (const r of open) expect(r.error).toBeUndefined()
    const shapesBefore = (await app.engine()).stats().shapes

    // A fourth distinct shape: refused at once, naming the limit, and no shape is made for it.
    const fourth = record(client.todos.sync, byTitle('d'))
    await failed(fourth)
    expect(fourth.error.data.code).toBe('BAD_REQUEST')
    expect(fourth.error.message).toContain('shapesPerConnection')
    expect((await app.engine()).stats().shapes).toBe(shapesBefore)

    // More subscriptions of a shape it holds are fine, up to five open in all; the sixth is refused.
    const again = [record(client.todos.sync, byTitle('a')), record(client.todos.sync, byTitle('a'))]
    for (const r of again) await ready(r)
    for (const r of again) expect(r.error).toBeUndefined()
    const sixth = record(client.todos.sync, byTitle('a'))
    await failed(sixth)
    expect(sixth.error.data.code).toBe('BAD_REQUEST')
    expect(sixth.error.message).toContain('subscriptionsPerConnection')

    // Another connection has limits of its own.
    const other = record(app.client('carol').todos.sync, byTitle('d'))
    await ready(other)
    expect(other.error).toBeUndefined()

    // Ending a subscription frees its place (once the server has seen the stop).
    open[1]!.stop()
    let retry: Recording | undefined
    await until(async () => {
      retry?.stop()
      retry = record(client.todos.sync, byTitle('d'))
      await ready(retry)
      return retry.error === undefined
    }, 'a subscription of a new shape after one ended')
    await app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'd', 'carol')`)
    await until(() => retry!.data().some((e) => e.type === 'insert'), 'the new subscription live')
    for (const r of [...open, ...again, other, retry!]) r.stop()
  })

  it('answers a new shape with TOO_MANY_REQUESTS while the server holds `shapes` shapes, all being read', async () => {
    const engine = await app.engine()
    // Eight shapes being read (the previous test's are idle now: they are evicted for these).
    const users = ['u1', 'u2', 'u3']
    const held: Recording[] = []
    for (const [i, user] of users.entries()) {
      const client = app.client(user)
      for (const title of i < 2 ? ['x', 'y', 'z'] : ['x', 'y']) held.push(record(client.todos.sync, byTitle(title)))
    }
    for (const r of held) await ready(r)
    for (const r of held) expect(r.error).toBeUndefined()
    await until(() => engine.stats().shapes === 8, 'eight shapes')

    const refused = record(app.client('u4').todos.sync, byTitle('x'))
    await failed(refused)
    expect(refused.error.data.code).toBe('TOO_MANY_REQUESTS')
    expect(refused.error.message).toContain('limit shapes')

    // One ends: the next new shape takes its place.
    held[0]!.stop()
    let retry: Recording | undefined
    await until(async () => {
      retry?.stop()
      retry = record(app.client('u4').todos.sync, byTitle('x'))
      await ready(retry)
      return retry.error === undefined
    }, 'a new shape once one ended')
    expect(engine.stats().shapes).toBe(8)
    for (const r of [...held, retry!]) r.stop()
  })
})

describe('an honest client while another attacks', () => {
  let victim: TestApp
  beforeAll(async () => {
    // A budget the attack passes: its shapes are evicted and refetched while it lasts.
    victim = await startApp({ limits: { shapesPerConnection: 10, logBytes: 24 * 1024 * 1024 }, engine: { chunkBytes: 256 * 1024 } })
    await victim.db.sql(`INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), repeat('m', 200) || g, 'mallory' FROM generate_series(1, 10000) g`)
  })
  afterAll(async () => {
    await victim?.close()
  })

  it('keeps getting its changes within a second while another client opens every shape it may over a large table', { timeout: 120_000 }, async () => {
    const arrived = new Map<string, () => void>()
    const honest = record(victim.client('henry').todos.sync, {}, (event) => {
      if (event.data.type === 'insert') arrived.get((event.data.row as { title: string }).title)?.()
    })
    await ready(honest)
    const probe = async (title: string): Promise<number> => {
      const seen = new Promise<void>((resolve) => arrived.set(title, resolve))
      const started = performance.now()
      await victim.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), $1, 'henry')`, [title])
      await seen
      return performance.now() - started
    }
    const baseline = await probe('before')

    // The attacker runs elsewhere (a thread of its own: its reading costs the server nothing): three
    // connections, each asking for twelve distinct shapes of all 10,000 rows (ten are allowed each).
    const attacker = new Worker(attackerCode, {
      eval: true, workerData: { ws: createRequire(import.meta.url).resolve('ws'), url: `ws://127.0.0.1:${victim.port}/trpc`, connections: 3, shapes: 12 },
    })
    const statsOf = () => new Promise<{ data: number; errors: string[] }>((resolve) => {
      attacker.once('message', resolve)
      attacker.postMessage('stats')
    })
    try {
      // Probes every 100 ms until the attacker has received 30,000 messages (three of its shapes' worth),
      // or 150 probes on a machine too loaded for that (its shapes are evicted and refetched meanwhile).
      const latencies: number[] = []
      let attack = await statsOf()
      for (let i = 0; i < 10 || (attack.data < 30_000 && i < 150); i++) {
        latencies.push(await probe(`during ${i}`))
        await new Promise((r) => setTimeout(r, 100))
        attack = await statsOf()
      }
      console.log(`[isolation] honest commit-to-client: ${baseline.toFixed(0)} ms alone; under attack max ${Math.max(...latencies).toFixed(0)} ms of ${latencies.length} probes ` +
        `(attacker got ${attack.data} messages, ${attack.errors.length} refusals; ${(await victim.engine()).stats().logBytes} log bytes)`)
      expect(attack.data).toBeGreaterThan(10_000) // the attack ran: a whole shape's worth and more
      expect(attack.errors.length).toBe(6)
      for (const error of attack.errors) expect(error).toContain('shapesPerConnection')
      expect(Math.max(...latencies)).toBeLessThan(1000)
      expect((await victim.engine()).stats().logBytes).toBeLessThanOrEqual(24 * 1024 * 1024)
    } finally {
      await attacker.terminate()
      honest.stop()
    }
  })
})

/** An attacker speaking tRPC's WebSocket protocol with the `ws` package; it counts what it gets, reads nothing. */
const attackerCode = `
const { parentPort, workerData } = require('node:worker_threads')
const WebSocket = require(workerData.ws)
const stats = { data: 0, errors: [] }
for (let c = 0; c < workerData.connections; c++) {
  const socket = new WebSocket(workerData.url + '?connectionParams=1')
  socket.on('error', () => {})
  socket.on('open', () => {
    socket.send(JSON.stringify({ method: 'connectionParams', data: { userId: 'mallory' } }))
    for (let i = 0; i < workerData.shapes; i++) {
      const where = { title: { not: 'q' + c + '-' + i } }
      socket.send(JSON.stringify({ id: i + 1, method: 'subscription', params: { path: 'todos.sync', input: { json: { where } } } }))
    }
  })
  socket.on('message', (raw) => {
    const text = raw.toString()
    if (text.startsWith('{"id"') && text.includes('"error":')) stats.errors.push(text)
    else stats.data++
  })
}
parentPort.on('message', () => parentPort.postMessage(stats))
`
