// Frames over the server's maxPayload (issue 13): `ws` closes such a socket with 1009, and tRPC's client
// used to reconnect and send the same request again, forever (a connection and a 1 MB read a round).
// Now the request is answered once, PAYLOAD_TOO_LARGE naming maxPayload, and never sent again; the
// client's other subscriptions go on. With real @trpc/client WebSockets against the real server.
import { randomUUID } from 'node:crypto'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSyncClient, type SyncClient } from '../../client/index.js'
import { createSyncWSServer, type SyncErrorInfo, type SyncWSServer } from '../../src/index.js'
import { appRouter, type AppRouter } from './app.js'
import { record, startApp, until, type TestApp } from './support.js'

let app: TestApp
let small: SyncWSServer
const SMALL = 64 * 1024
const smallErrors: SyncErrorInfo<AppRouter>[] = []
const clients: SyncClient<AppRouter>[] = []
/** Connections each server has accepted so far. */
const connections = { default: 0, small: 0 }

beforeAll(async () => {
  app = await startApp()
  app.ws.wss.on('connection', () => connections.default++)
  // The same app with a limit lower than the clients are told (they assume the default, 1 MiB).
  small = createSyncWSServer({
    router: appRouter(app.sync, app.db.prisma),
    server: app.http,
    path: '/small',
    maxPayload: SMALL,
    createContext: ({ connectionParams }) => ({ userId: connectionParams?.userId ?? null }),
    onError: (info) => smallErrors.push(info),
  })
  small.wss.on('connection', () => connections.small++)
})
afterAll(async () => {
  for (const client of clients) await client.$close()
  await small?.close({ graceMs: 0 })
  await app?.close()
})

function client(userId: string, path: string): SyncClient<AppRouter> {
  const c = createSyncClient<AppRouter>({
    url: `ws://127.0.0.1:${app.port}${path}`,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: { userId },
    retryDelayMs: () => 20,
  })
  clients.push(c)
  return c
}

async function insertFor(userId: string): Promise<string> {
  const title = `for ${userId} ${randomUUID()}`
  await app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), $1, $2)`, [title, userId])
  return title
}

/** Long enough for a resend loop (reconnects every 20 ms) to show in the connection counts. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 500))

describe('frames over maxPayload', () => {
  it('fails a subscription and a mutation larger than the limit once, unsent; the other subscription goes on', async () => {
    const c = client('alice', '/trpc')
    const honest = record(c.todos.sync, {})
    await until(() => honest.upToDates > 0, 'the honest subscription is live')
    const before = connections.default

    const big = record(c.todos.sync, { where: { title: 'x'.repeat(1_100_000) } })
    await until(() => big.error !== undefined, 'the oversized subscription fails')
    expect(big.error.data?.code).toBe('PAYLOAD_TOO_LARGE')
    expect(big.error.message).toMatch(/^the request is 1100\d{3} bytes, larger than the server's maxPayload \(1048576 bytes\); it was not sent$/)

    // A TanStack batch has a mutationId, which the client sends again when an answer is lost: not this one.
    const write = c.todos.mutate.mutate([{ type: 'insert', mutationId: randomUUID(), modified: { id: randomUUID(), title: 'y'.repeat(1_100_000), ownerId: 'alice' } }])
    await expect(write).rejects.toMatchObject({ data: { code: 'PAYLOAD_TOO_LARGE' }, message: expect.stringContaining('maxPayload') })

    const title = await insertFor('alice')
    await until(() => honest.data().some((d) => d.type === 'insert' && d.row.title === title), 'the honest change')
    await settle()
    expect(connections.default).toBe(before) // nothing was sent, so the socket stayed open
    expect(big.events).toEqual([])
    honest.stop()
  })

  it('sends a batch over the limit one request a frame, each answered by the server', async () => {
    const before = connections.default
    const c = client('bob', '/trpc')
    // Queued in one tick, they would go in one 1.2 MB frame; each alone is under 1 MiB.
    const a = record(c.todos.sync, { where: { title: 'a'.repeat(600_000) } })
    const b = record(c.todos.sync, { where: { title: 'b'.repeat(600_000) } })
    await until(() => a.error !== undefined && b.error !== undefined, 'both answers')
    for (const r of [a, b]) {
      expect(r.error.data?.code).toBe('BAD_REQUEST')
      expect(r.error.message).toMatch(/limit whereBytes/)
    }
    await settle()
    expect(connections.default).toBe(before + 1)
  })

  it('a server with a lower limit closes the connection once: that request fails, the others resume', async () => {
    const c = client('carol', '/small')
    const honest = record(c.todos.sync, {})
    await until(() => honest.upToDates > 0, 'the honest subscription is live')
    const before = connections.small

    const big = record(c.todos.sync, { where: { title: 'x'.repeat(100_000) } })
    await until(() => big.error !== undefined, 'the oversized subscription fails')
    expect(big.error.data?.code).toBe('PAYLOAD_TOO_LARGE')
    expect(big.error.message).toMatch(/larger than the server's maxPayload \(less than 100\d{3} bytes: the server closed the connection at a request of that size, code 1009\); it is not sent again$/)

    const title = await insertFor('carol')
    await until(() => honest.data().some((d) => d.type === 'insert' && d.row.title === title), 'the honest change after the reconnect')
    // The client learnt the limit: a second request as large fails without reaching the server.
    const again = record(c.todos.sync, { where: { title: 'z'.repeat(100_000) } })
    await until(() => again.error !== undefined, 'the second oversized subscription fails')
    expect(again.error.data?.code).toBe('PAYLOAD_TOO_LARGE')
    await settle()
    expect(connections.small).toBe(before + 1) // one reconnect, not a loop
    expect(honest.error).toBeUndefined()
    const tooLarge = smallErrors.filter((e) => e.error.code === 'PAYLOAD_TOO_LARGE')
    expect(tooLarge).toHaveLength(1)
    expect(tooLarge[0]!.error.message).toBe(`a message larger than maxPayload (${SMALL} bytes): the connection was closed (1009)`)
    honest.stop()
  })
})
