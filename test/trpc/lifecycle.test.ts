// Lifecycle: 10,000 subscribe/unsubscribe cycles over a real WebSocket leave the engine's readers, the
// sockets' listeners, timers and the heap where they were. No wall-clock assertions.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShapeLog } from '../../src/engine/shape-log.js'
import { logOf, record, startApp, until, type TestApp } from './support.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let app: TestApp
beforeAll(async () => {
  app = await startApp()
})
afterAll(async () => {
  await app?.close()
})

function heapAfterGc(): number {
  for (let i = 0; i < 4; i++) gc()
  return process.memoryUsage().heapUsed
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
const listeners = () => [...app.ws.wss.clients].reduce((n, s) => n + s.eventNames().reduce((m, e) => m + s.listenerCount(e), 0), 0)
const waiting = (log: ShapeLog) => (log as unknown as { waiters: Set<unknown> }).waiters.size

describe('subscription lifecycle', () => {
  it('releases readers, listeners, timers and memory after 10,000 subscribe/unsubscribe cycles', async () => {
    await app.db.sql(`INSERT INTO todos (id, title, owner_id, is_completed) SELECT gen_random_uuid(), 'row ' || i, 'uma', i % 2 = 0 FROM generate_series(1, 3) i`)
    const client = app.client('uma')
    const inputs = [{}, { where: { completed: false } }]

    /** Subscribes and unsubscribes `count` times, `parallel` at once; every third leaves before any data. */
    async function cycles(count: number, parallel = 25): Promise<void> {
      let next = 0
      await Promise.all(Array.from({ length: parallel }, async () => {
        while (next < count) {
          const i = next++
          const immediate = i % 3 === 0
          await new Promise<void>((resolve) => {
            const subscription = record(client.todos.sync, inputs[i % 2], () => {
              subscription.stop()
              resolve()
            })
            if (immediate) {
              subscription.stop()
              resolve()
            }
          })
        }
      }))
    }

    // Warm up first: the first thousands of cycles grow the heap once (compiled code, caches), then it stays flat.
    await cycles(5000)
    const logs = await Promise.all(inputs.map((input) => logOf(app, app.sync.shape(app.db.prisma.todo, { where: { AND: [{ ownerId: 'uma' }, input.where ?? {}] } }))))
    const idle = async () => until(() => logs.every((log) => log.activeReaders === 0 && waiting(log) === 0), 'readers to be released')
    await idle()
    const baseline = { heap: heapAfterGc(), timers: timers(), listeners: listeners(), shapes: (await app.engine()).stats().shapes }

    await cycles(10_000)
    await idle()
    // Keep-alive pings come and go; a timer left per cycle would be thousands.
    expect(timers()).toBeLessThanOrEqual(baseline.timers + 3)
    expect(listeners()).toBe(baseline.listeners)
    expect((await app.engine()).stats().shapes).toBe(baseline.shapes)
    expect(logs.every((log) => !log.rotated)).toBe(true)
    // A leak of 150 bytes per cycle would be 1.5 MB.
    const limit = 1.5 * 1024 * 1024
    let grown = heapAfterGc() - baseline.heap
    if (grown >= limit) {
      // On a loaded machine the warm-up may not have reached the plateau (compiled code, caches): a leak
      // grows as much again over another 10,000 cycles, a late warm-up does not.
      const before = heapAfterGc()
      await cycles(10_000)
      await idle()
      grown = heapAfterGc() - before
    }
    expect(grown).toBeLessThan(limit)
  })

  it('answers a live read whose reader has already gone at once, holding no reader', async () => {
    const shape = app.sync.shape(app.db.prisma.todo, { where: { ownerId: 'nobody' } })
    const log = await logOf(app, shape)
    const engine = await app.engine()
    const gone = AbortSignal.abort()
    let answered = false
    const read = engine.fetch(log.definition, { offset: '0_0', handle: log.handle, live: true, liveTimeout: 600_000, signal: gone })
      .then(() => { answered = true })
    await until(() => answered, 'the aborted live read to return')
    await read
    expect(log.activeReaders).toBe(0)
    expect(waiting(log)).toBe(0)
  })
})
