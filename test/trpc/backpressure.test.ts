// Flow control: a client that stops reading does not grow the server's memory. Its subscription stops
// reading the shape log while the socket's send buffer is over the high-water mark; after the stall
// timeout the server closes the socket (1013, with a reason); the client reconnects and resumes. Other
// clients are not held up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WebSocket as WsSocket } from 'ws'
import type { Socket } from 'node:net'
import { record, startApp, until, type Recording, type TestApp } from './support.js'

const highWaterBytes = 64 * 1024
let app: TestApp
beforeAll(async () => {
  app = await startApp({ subscription: { highWaterBytes, stallTimeoutMs: 1500 } })
})
afterAll(async () => {
  await app?.close()
})

const changeIds = (r: Recording) => r.events.filter((e) => 'key' in e.data).map((e) => e.id)

describe('flow control', () => {
  it('stops reading for a client that stops reading, closes it after the stall timeout, and it resumes', async () => {
    const before = new Set(app.ws.wss.clients)
    const closes: (number | undefined)[] = []
    const slowClient = app.client('wes', { onClose: (cause) => closes.push(cause?.code) })
    const slow = record(slowClient.todos.sync, {})
    await until(() => slow.upToDates > 0, 'the slow subscriber to be ready')
    const [serverSide] = [...app.ws.wss.clients].filter((s) => !before.has(s)) as WsSocket[]
    const fast = record(app.client('wes').todos.sync, {})
    await until(() => fast.upToDates > 0, 'the fast subscriber to be ready')
    const clientSocket = (slowClient.$ws.connection!.ws as unknown as { _socket: Socket })._socket
    clientSocket.pause()

    let maxBuffered = 0
    const sampler = setInterval(() => { maxBuffered = Math.max(maxBuffered, serverSide!.bufferedAmount) }, 2)
    // ~16 MB of events: more than the kernel's socket buffers hold (loopback autotuning can take ~10 MB).
    await app.db.sql(`INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), repeat('x', 4000) || i, 'wes' FROM generate_series(1, 4000) i`)
    const expected = await app.db.prisma.todo.count({ where: { ownerId: 'wes' } })
    await until(() => fast.data().filter((e) => e.type === 'insert').length === expected && fast.data().at(-1)?.type === 'up-to-date', 'the fast client to get every row')
    await until(() => serverSide!.readyState !== 1, 'the server to give up on the stalled socket', 10_000)
    clearInterval(sampler)
    // At most one event over the mark (the check runs before each event).
    expect(maxBuffered).toBeGreaterThan(highWaterBytes / 2)
    expect(maxBuffered).toBeLessThan(highWaterBytes + 8 * 1024)
    expect(slow.data().filter((e) => e.type === 'insert').length).toBeLessThan(expected)

    clientSocket.resume()
    await until(() => changeIds(slow).length >= changeIds(fast).length && slow.data().at(-1)?.type === 'up-to-date', 'the slow client to resume', 30_000)
    expect(closes).toContain(1013)
    expect(changeIds(slow)).toEqual(changeIds(fast))
    slow.stop()
    fast.stop()
  })
})
