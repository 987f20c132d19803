// createSyncWSServer speaks tRPC's WebSocket protocol itself (src/trpc/ws-connection.ts). The real
// `@trpc/client` suites cover what wsLink sends; this one sends raw frames for what a hostile or broken
// client can send, and checks each is answered as tRPC's own adapter answers it.
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startApp, until, type TestApp } from './support.js'

let app: TestApp
beforeAll(async () => {
  app = await startApp()
})
afterAll(async () => {
  await app?.close()
})

/** A raw connection as user `userId`, recording every frame it gets (parsed when JSON). */
async function connect(userId = 'proto') {
  const ws = new WebSocket(`ws://127.0.0.1:${app.port}/trpc?connectionParams=1`)
  await once(ws, 'open')
  const frames: any[] = []
  ws.on('message', (data) => {
    const text = String(data)
    try {
      frames.push(JSON.parse(text))
    } catch {
      frames.push(text)
    }
  })
  ws.send(JSON.stringify({ method: 'connectionParams', data: { userId } }))
  return { ws, frames }
}

const subscribe = (id: number, path = 'todos.sync', input: unknown = { json: {} }) =>
  JSON.stringify({ id, method: 'subscription', params: { path, input } })

describe('the WebSocket protocol', () => {
  it('answers PING with PONG, malformed and binary frames with errors, and keeps the connection', async () => {
    const { ws, frames } = await connect()
    ws.send('PING')
    ws.send('{not json')
    ws.send(Buffer.from([1, 2, 3]), { binary: true })
    await until(() => frames.length >= 3, 'three answers')
    expect(frames[0]).toBe('PONG')
    const codes = frames.slice(1).map((f) => (f.error.json ?? f.error).data.code)
    expect(codes).toEqual(['PARSE_ERROR', 'UNPROCESSABLE_CONTENT'])
    expect(frames.slice(1).every((f) => f.id === null)).toBe(true)
    // Still served: a subscription after the bad frames starts.
    ws.send(subscribe(1))
    await until(() => frames.some((f) => f.id === 1 && f.result?.type === 'started'), 'the subscription to start')
    ws.close()
  })

  it('serves a subscription (started, data with ids, stopped on subscription.stop) and refuses a duplicate id', async () => {
    const { ws, frames } = await connect()
    ws.send(subscribe(7))
    await until(() => frames.some((f) => f.id === 7 && f.result?.type === 'data'), 'data')
    ws.send(subscribe(7))
    await until(() => frames.some((f) => f.id === 7 && f.error), 'the duplicate refused')
    const duplicate = frames.find((f) => f.id === 7 && f.error)
    expect((duplicate.error.json ?? duplicate.error).data.code).toBe('BAD_REQUEST')
    const data = frames.find((f) => f.id === 7 && f.result?.type === 'data')
    expect(typeof data.result.id).toBe('string')
    expect(data.result.data.json.id).toBe(data.result.id)
    ws.send(JSON.stringify({ id: 7, method: 'subscription.stop' }))
    await until(() => frames.some((f) => f.id === 7 && f.result?.type === 'stopped'), 'stopped')
    expect(frames.filter((f) => f.id === 7).map((f) => f.result?.type ?? 'error')[0]).toBe('started')
    ws.close()
  })

  it('answers a batch of calls each by its id, a subscription path called as a query with an error, and an unknown path with NOT_FOUND', async () => {
    const { ws, frames } = await connect()
    ws.send(JSON.stringify([
      { id: 1, method: 'query', params: { path: 'todos.sync', input: { json: {} } } },
      { id: 2, method: 'subscription', params: { path: 'no.such', input: { json: {} } } },
    ]))
    await until(() => frames.some((f) => f.id === 1 && f.error) && frames.some((f) => f.id === 2 && f.error), 'both answers')
    const codeOf = (id: number) => { const f = frames.find((x) => x.id === id && x.error); return (f.error.json ?? f.error).data.code }
    expect(codeOf(1)).not.toBe('INTERNAL_SERVER_ERROR')
    expect(codeOf(2)).toBe('NOT_FOUND')
    // A refused subscription is answered with its error alone.
    expect(frames.filter((f) => f.id === 2)).toHaveLength(1)
    ws.close()
  })

  it('tells every client to reconnect when asked', async () => {
    const { ws, frames } = await connect()
    ws.send(subscribe(3))
    await until(() => frames.some((f) => f.id === 3 && f.result?.type === 'started'), 'started')
    app.ws.broadcastReconnectNotification()
    await until(() => frames.some((f) => f.method === 'reconnect'), 'the reconnect notice')
    expect(frames.find((f) => f.method === 'reconnect')).toEqual({ id: null, method: 'reconnect' })
    ws.close()
  })
})
