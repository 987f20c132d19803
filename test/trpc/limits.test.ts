// Hostile where inputs over real WebSockets (issue 13, cases 1, 4 and 6): each attack is answered once
// with BAD_REQUEST naming the limit or the path, before any shape is made (the engine's shape count does
// not move), while an honest client on another connection keeps getting its changes.
// The attacker uses a real @trpc/client where a client can produce the input, and raw tRPC frames where
// it cannot (a `__proto__` key, a reference cycle, 10,000 levels of nesting), so the frame is exact.
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import SuperJSON from 'superjson'
import WebSocket from 'ws'
import { initTRPC } from '@trpc/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createClientTransformer, createSyncClient, clientTransformer } from '../../client/index.js'
import { createSyncWSServer, syncTransformer, type SyncWSServer } from '../../src/index.js'
import type { AppRouter } from './app.js'
import { record, startApp, until, type Recording, type TestApp } from './support.js'

let app: TestApp
let honest: Recording
let passthrough: SyncWSServer
const clients: { $close(): unknown }[] = []
const MAX_PAYLOAD = 1 << 20 // createSyncWSServer's default

/** Server code that passes the client's where to sync.shape without sync.where (served at /raw). */
function passthroughRouter() {
  const t = initTRPC.create({ transformer: syncTransformer })
  return t.router({
    todos: t.procedure.input(z.object({ where: z.any() })).subscription(app.sync.subscription(({ input }) =>
      app.sync.shape(app.db.prisma.todo, { where: { AND: [{ ownerId: 'mallory' }, input.where] } }))),
  })
}

beforeAll(async () => {
  app = await startApp()
  passthrough = createSyncWSServer({ router: passthroughRouter(), server: app.http, path: '/raw' })
  honest = record(app.client('honest').todos.sync, {})
  await until(() => honest.upToDates > 0, 'the honest client is live')
})
afterAll(async () => {
  for (const client of clients) await client.$close()
  honest?.stop()
  await passthrough?.close({ graceMs: 0 })
  await app?.close()
})

async function shapeCount(): Promise<number> {
  return (await app.engine()).stats().shapes
}

/** Commit to the honest client's event, ms; the bound asserted is 1 s. */
async function honestCommitToClient(): Promise<number> {
  const title = `honest ${randomUUID()}`
  const started = performance.now()
  await app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), $1, 'honest')`, [title])
  await until(() => honest.data().some((d) => d.type === 'insert' && d.row.title === title), 'the honest change', 10_000)
  return performance.now() - started
}

/** An attacker on a connection of its own; `transformer` as the attacker chooses (e.g. superjson with dedupe). */
function attacker(transformer = clientTransformer) {
  const client = createSyncClient<AppRouter>({
    url: `ws://127.0.0.1:${app.port}/trpc`,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: { userId: 'mallory' },
    transformer,
    retryDelayMs: () => 50,
  })
  clients.push(client)
  return client
}

/** The JSON text of the subscription message a client with `transformer` sends for `input`. */
const frameOf = (input: unknown, transformer: SuperJSON = clientTransformer) =>
  JSON.stringify({ id: 1, method: 'subscription', params: { path: 'todos.sync', input: transformer.serialize(input) } })

/**
 * Subscribes with `input` through a real client while the honest client commits; expects one
 * BAD_REQUEST whose message contains `named`, no data, no new shape, and the honest change within 1 s.
 */
async function refusedOverTrpc(input: unknown, named: string | RegExp, transformer?: SuperJSON) {
  const shapes = await shapeCount()
  const errors: any[] = []
  const events: unknown[] = []
  const subscription = attacker(transformer).todos.sync.subscribe(input as never, {
    onData: (event) => events.push(event),
    onError: (error) => errors.push(error),
  })
  const latency = honestCommitToClient()
  await until(() => errors.length > 0, 'the answer to the attack')
  expect(await latency).toBeLessThan(1000)
  expect(await honestCommitToClient()).toBeLessThan(1000) // after the answer, too
  subscription.unsubscribe()
  expect(errors).toHaveLength(1)
  expect(errors[0].data?.code, errors[0].message).toBe('BAD_REQUEST')
  expect(errors[0].message).toMatch(named)
  expect(events).toEqual([])
  expect(await shapeCount()).toBe(shapes)
  return errors[0].message as string
}

/** Sends one raw subscription frame on a connection of its own; returns every answer for it. */
async function refusedRaw(frame: string, named: string | RegExp, path = '/trpc') {
  const shapes = await shapeCount()
  const ws = new WebSocket(`ws://127.0.0.1:${app.port}${path}?connectionParams=1`)
  await once(ws, 'open')
  const answers: any[] = []
  ws.on('message', (data) => answers.push(JSON.parse(String(data))))
  ws.send(JSON.stringify({ method: 'connectionParams', data: { userId: 'mallory' } }))
  ws.send(frame)
  const latency = honestCommitToClient()
  await until(() => answers.some((a) => a.id === 1 && a.error), 'the answer to the raw frame')
  expect(await latency).toBeLessThan(1000)
  expect(await honestCommitToClient()).toBeLessThan(1000)
  ws.close()
  const forIt = answers.filter((a) => a.id === 1)
  expect(forIt).toHaveLength(1)
  const error = forIt[0].error.json ?? forIt[0].error
  expect(error.data?.code, error.message).toBe('BAD_REQUEST')
  expect(error.message).toMatch(named)
  expect(await shapeCount()).toBe(shapes)
  return error.message as string
}

const rawFrame = (inputJson: string, path = 'todos.sync') => `{"id":1,"method":"subscription","params":{"path":"${path}","input":${inputJson}}}`

describe('where limits over tRPC', () => {
  it('refuses a 65,536-condition OR (a frame under maxPayload) with whereConditions', async () => {
    const where = { OR: Array.from({ length: 65_536 }, () => ({ title: '' })) }
    const bytes = Buffer.byteLength(frameOf({ where }))
    expect(bytes).toBeGreaterThan(800_000)
    expect(bytes).toBeLessThan(MAX_PAYLOAD) // so it reaches the where check, not the socket's limit
    await refusedOverTrpc({ where }, /limit whereConditions: 256/)
  })

  it('refuses a 2^16-leaf where sent in ~2 KB with superjson references, counting leaves as resolved', async () => {
    const dedupe = createClientTransformer(new SuperJSON({ dedupe: true }))
    // The frame, `AND: [X, X]` nested 16 deep: also deeper than whereDepth, which may answer first.
    let deep: object = { title: '' }
    for (let i = 0; i < 16; i++) deep = { AND: [deep, deep] }
    // The same 2^16 leaves 8 levels deep (`AND: [X, X, X, X]`): within whereDepth, so only the count stops it.
    let wide: object = { title: '' }
    for (let i = 0; i < 8; i++) wide = { AND: [wide, wide, wide, wide] }
    for (const where of [deep, wide]) {
      const frame = frameOf({ where }, dedupe)
      expect(Buffer.byteLength(frame)).toBeLessThan(4096)
      expect(frame).toContain('referentialEqualities')
      expect(Buffer.byteLength(frameOf({ where }))).toBeGreaterThan(MAX_PAYLOAD) // what it resolves to
    }
    await refusedOverTrpc({ where: deep }, /limit (whereConditions: 256|whereDepth: 32)/, dedupe)
    await refusedOverTrpc({ where: wide }, /limit whereConditions: 256/, dedupe)
  })

  it('refuses a where larger than whereBytes', async () => {
    await refusedOverTrpc({ where: { title: { contains: 'x'.repeat(20_000) } } }, /limit whereBytes: 16384/)
  })

  it('refuses 60,000 insensitive `in` values with inValues (was INTERNAL_SERVER_ERROR: stack overflow)', async () => {
    const where = { title: { in: Array.from({ length: 60_000 }, (_, i) => `t${i}`), mode: 'insensitive' } }
    expect(Buffer.byteLength(frameOf({ where }))).toBeLessThan(MAX_PAYLOAD)
    await refusedOverTrpc({ where }, /title\.in: the list has 60000 values \(limit inValues: 1000\)/)
  })

  it('refuses a where nested 10,000 (and 120,000) levels deep, and a reference cycle, with whereDepth', async () => {
    const deep = '{"NOT":'.repeat(10_000) + '{"title":"x"}' + '}'.repeat(10_000)
    await refusedRaw(rawFrame(`{"json":{"where":${deep}}}`), /limit whereDepth: 32/)
    // As deep as a frame under maxPayload allows (superjson's copy used to recurse over it first).
    const deepest = '{"NOT":'.repeat(120_000) + '{}' + '}'.repeat(120_000)
    expect(deepest.length).toBeLessThan(MAX_PAYLOAD - 100)
    await refusedRaw(rawFrame(`{"json":{"where":${deepest}}}`), /limit whereDepth: 32/)
    // where.AND is where itself
    await refusedRaw(rawFrame('{"json":{"where":{"AND":null}},"meta":{"referentialEqualities":{"where":["where.AND"]}}}'), /limit whereDepth: 32/)
  })

  it('accepts a where at the limits, and the rows are the query', async () => {
    await app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 't7', 'edge'), (gen_random_uuid(), 'T999', 'edge'), (gen_random_uuid(), 'u1', 'edge')`)
    const client = createSyncClient<AppRouter>({ url: `ws://127.0.0.1:${app.port}/trpc`, WebSocket: WebSocket as never, connectionParams: { userId: 'edge' } })
    clients.push(client)
    // 1,000 values (inValues), one parameter each.
    const list = record(client.todos.sync, { where: { title: { in: Array.from({ length: 1000 }, (_, i) => `t${i}`), mode: 'insensitive' } } })
    // 255 conditions: the server adds its own (ownerId), 256 in all.
    const wide = record(client.todos.sync, { where: { OR: Array.from({ length: 255 }, (_, i) => ({ title: `u${i}` })) } })
    await until(() => (list.upToDates > 0 || list.error) && (wide.upToDates > 0 || wide.error), 'both answers')
    expect(list.error).toBeUndefined()
    expect(wide.error).toBeUndefined()
    const titles = (r: Recording) => r.data().flatMap((d) => (d.type === 'insert' ? [d.row.title] : [])).sort()
    expect(titles(list)).toEqual(['T999', 't7'])
    expect(titles(wide)).toEqual(['u1'])
    list.stop()
    wide.stop()
  })
})

describe('strict filter input over tRPC: non-JSON values are refused, naming the path, not read as {}', () => {
  it('refuses a Date or a Map where a string filter is, and a Set or a Map as the where', async () => {
    expect(await refusedOverTrpc({ where: { title: new Date() } }, 'title: expected a string or a filter object, got a Date')).toContain('invalid filter')
    await refusedOverTrpc({ where: { OR: [{ completed: true }, { title: new Map([['contains', 'x']]) }] } }, 'OR[1].title: expected a plain JSON value, got a Map')
    await refusedOverTrpc({ where: new Set([{ title: 'x' }]) }, 'expected a where object, got a Set')
    await refusedOverTrpc({ where: new Map() }, 'expected a where object, got a Map')
    await refusedOverTrpc({ where: { NOT: new Date() } }, 'NOT: expected a where object or a list of them, got a Date')
    await refusedOverTrpc({ where: { title: { not: new Set(['x']) } } }, 'title.not: expected a plain JSON value, got a Set')
    await refusedOverTrpc({ where: { title: { in: [Number.NaN] } } }, 'title.in[0]: NaN is not a finite number')
    await refusedOverTrpc({ where: { title: { equals: 10n ** 30n } } }, 'title.equals: 1000000000000000000000000000000 is out of range')
  })

  it('refuses __proto__, constructor and prototype keys anywhere', async () => {
    await refusedRaw(rawFrame('{"json":{"where":{"__proto__":{"title":"x"}}}}'), '"__proto__" is not allowed as a key')
    await refusedRaw(rawFrame('{"json":{"where":{"AND":[{"title":{"__proto__":{"contains":"x"}}}]}}}'), /AND\[0\]\.title.*"__proto__" is not allowed as a key/)
    await refusedRaw(rawFrame('{"json":{"where":{"OR":[{"constructor":{"title":"x"}}]}}}'), 'OR[0].constructor: "constructor" is not allowed as a key')
    await refusedRaw(rawFrame('{"json":{"where":{"title":{"prototype":1}}}}'), 'title.prototype: "prototype" is not allowed as a key')
  })
})

describe('server code passing a client where to sync.shape unvalidated', () => {
  const raw = (input: unknown) => rawFrame(JSON.stringify(syncTransformer.serialize(input)), 'todos')
  const refused = (input: unknown, named: string | RegExp) => refusedRaw(raw(input), named, '/raw')

  it('answers the where limits with BAD_REQUEST naming the limit (a LimitError from the shape builder)', async () => {
    await refused({ where: { OR: Array.from({ length: 65_536 }, () => ({ title: '' })) } }, /limit whereConditions: 256/)
    await refused({ where: { title: { in: Array.from({ length: 60_000 }, (_, i) => `t${i}`), mode: 'insensitive' } } }, /limit shapeParams: 10000/)
    let deep: object = { title: 'x' }
    for (let i = 0; i < 1000; i++) deep = { NOT: deep }
    await refused({ where: deep }, /limit whereDepth: 32/)
  })

  it('refuses non-JSON values and prototype keys with BAD_REQUEST naming the path', async () => {
    await refused({ where: { title: new Date() } }, 'where.AND[1].title: expected a string, got a Date')
    await refused({ where: new Set([{ title: 'x' }]) }, 'where.AND[1]: expected a where object, got a Set')
    await refusedRaw(rawFrame('{"json":{"where":{"__proto__":{"title":"x"}}}}', 'todos'), 'where.AND[1].__proto__: unknown field', '/raw')
    await refusedRaw(rawFrame('{"json":{"where":{"constructor":{"title":"x"}}}}', 'todos'), 'where.AND[1].constructor: unknown field', '/raw')
  })
})
