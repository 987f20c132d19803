// The transport pieces on their own: the encoder writes what JSON.stringify would (from cached text),
// the transformer serializes a shared event once for every reader and for SSE, cookies parse safely, and
// createSyncWSServer serves on a port of its own, leaves other paths alone and turns a context error
// into an error for the client.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { initTRPC, TRPCError, tracked } from '@trpc/server'
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client'
import SuperJSON from 'superjson'
import WebSocket from 'ws'
import { describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/prisma/client.js'
import { clientTransformer } from '../../client/index.js'
import { createSyncWSServer, parseCookies, syncEncoder, syncTransformer } from '../../src/index.js'
import { plainJson, shareEncoding } from '../../src/trpc/transformer.js'
import { socketOf, withSocket } from '../../src/trpc/socket.js'
import { until } from './support.js'

describe('sync transformer and encoder', () => {
  it('serializes a shared event once, and frames it exactly as JSON.stringify would', () => {
    const event = { type: 'update', key: 'k', row: { id: 'a', at: new Date('2024-01-01T00:00:00Z'), big: 12n, dec: new Prisma.Decimal('1.50') }, changes: { big: 12n }, txids: [7] }
    shareEncoding(event)
    const first = syncTransformer.serialize({ id: 'e1', data: event })
    expect(syncTransformer.serialize({ id: 'e1', data: event })).toBe(first) // the same object for every reader
    expect(syncTransformer.serialize({ id: 'e2', data: event })).not.toBe(first)
    expect(syncTransformer.serialize(event)).toBe(syncTransformer.serialize(event)) // SSE sends the event alone

    const message = { id: 3, jsonrpc: '2.0', result: { type: 'data', id: 'e2', data: syncTransformer.serialize({ id: 'e2', data: event }) } }
    expect(JSON.parse(syncEncoder.encode(message) as string)).toEqual(JSON.parse(JSON.stringify(message)))
    const round = clientTransformer.deserialize(JSON.parse(syncEncoder.encode(message) as string).result.data) as { data: typeof event }
    expect(round.data.row.at).toEqual(event.row.at)
    expect(round.data.row.big).toBe(12n)
    expect(round.data.row.dec.toFixed()).toBe('1.5')

    const control = plainJson({ type: 'up-to-date' })
    expect(syncTransformer.serialize({ id: 'u', data: control })).toEqual(new SuperJSON().serialize({ id: 'u', data: control }))
    const other = { id: 1, result: { type: 'started' } }
    expect(syncEncoder.encode(other)).toBe(JSON.stringify(other))
  })

  it('attaches each connection\'s socket to its own context, whatever createContext returns', () => {
    const [a, b] = [{ id: 'a' }, { id: 'b' }] as unknown as import('ws').WebSocket[]
    const shared = { user: 'x' }
    const ctxA = withSocket(shared, a!)
    const ctxB = withSocket(shared, b!)
    expect([socketOf(ctxA), socketOf(ctxB), socketOf({ ...ctxA })]).toEqual([a, b, a])
    expect(ctxA).toMatchObject({ user: 'x' })
    class Session { user = 'y'; name() { return this.user } }
    const session = withSocket(new Session(), a!)
    expect([session.name(), socketOf(session)]).toEqual(['y', a])
    expect(socketOf(withSocket(undefined, b!))).toBe(b)
  })

  it('parses cookies without trusting their names', () => {
    const cookies = parseCookies('a=1; b=x%20y; a=2; __proto__=p; constructor=c; c="q"; bad=%E0%A4')
    expect(Object.entries(cookies)).toEqual([['a', '1'], ['b', 'x y'], ['__proto__', 'p'], ['constructor', 'c'], ['c', 'q'], ['bad', '%E0%A4']])
    expect(Object.getPrototypeOf(cookies)).toBe(null)
    expect(parseCookies(undefined)).toEqual({})
  })
})

describe('createSyncWSServer', () => {
  const t = initTRPC.context<{ user: string }>().create({ transformer: syncTransformer })
  const router = t.router({
    whoami: t.procedure.query(({ ctx }) => ctx.user),
    ticks: t.procedure.subscription(async function* () {
      yield tracked('1', { n: 1 })
    }),
  })

  it('serves on a port of its own, with auth from connectionParams', async () => {
    const server = createSyncWSServer({
      router, port: 0, host: '127.0.0.1',
      createContext: ({ connectionParams }) => {
        if (connectionParams?.token !== 'secret') throw new TRPCError({ code: 'UNAUTHORIZED', message: 'bad token' })
        return { user: 'ann' }
      },
    })
    await new Promise((r) => server.wss.once('listening', r))
    const port = (server.wss.address() as AddressInfo).port
    const connect = (token: string) => {
      const errors: unknown[] = []
      const ws = createWSClient({ url: `ws://127.0.0.1:${port}/trpc`, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket, connectionParams: { token }, retryDelayMs: () => 60_000 })
      return { ws, errors, client: createTRPCClient<typeof router>({ links: [wsLink({ client: ws, transformer: clientTransformer })] }) }
    }
    const good = connect('secret')
    expect(await good.client.whoami.query()).toBe('ann')
    const bad = connect('wrong')
    await expect(bad.client.whoami.query()).rejects.toThrow()
    await good.ws.close()
    await bad.ws.close()
    await server.close({ graceMs: 0 })
  })

  it('leaves upgrades to other paths to other listeners, and keeps connections alive with pings', async () => {
    const http = createServer()
    const server = createSyncWSServer({ router, server: http, keepAlive: { pingMs: 50, pongWaitMs: 1000 }, createContext: () => ({ user: 'x' }) })
    const other: string[] = []
    http.on('upgrade', (req, socket) => {
      if (req.url === '/other') {
        other.push(req.url)
        socket.destroy()
      }
    })
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
    const port = (http.address() as AddressInfo).port
    const stray = new WebSocket(`ws://127.0.0.1:${port}/other`)
    stray.on('error', () => {})
    await until(() => other.length === 1, 'the other listener')

    const socket = new WebSocket(`ws://127.0.0.1:${port}/trpc`)
    const pings: string[] = []
    socket.on('message', (data) => {
      if (data.toString() === 'PING') {
        pings.push('PING')
        socket.send('PONG')
      }
    })
    await until(() => pings.length >= 3, 'pings from the server')
    expect(socket.readyState).toBe(WebSocket.OPEN)
    socket.close()
    await server.close({ graceMs: 0 })
    await new Promise((r) => http.close(r))
  })
})
