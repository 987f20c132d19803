// Resuming: a subscriber whose connection drops (mid-snapshot, mid-transaction, mid-live), whose server
// asks it to reconnect, or whose tRPC layer restarts, ends with exactly the events an uninterrupted
// subscriber got: same ids in the same order, so no duplicate and no gap. Small snapshot chunks put
// many resume points inside the initial rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import { liveShape, type SyncEvent, type TrackedEvent } from '../../client/index.js'
import { TestEventSource } from './event-source.js'
import { endsUpToDate, record, startApp, until, type Recording, type TestApp } from './support.js'

let app: TestApp
beforeAll(async () => {
  app = await startApp({ engine: { chunkBytes: 1024 } })
})
afterAll(async () => {
  await app?.close()
})

async function seed(owner: string, count: number): Promise<void> {
  await app.db.sql(`INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), 'seed ' || i, $1 FROM generate_series(1, $2) i`, [owner, count])
}

/** Inserts, updates and deletes in single- and multi-statement transactions. */
async function writes(owner: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const insert = `INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'live ${i}', '${owner}')`
    if (i % 5 === 4) {
      await app.db.sql(`${insert}; ${insert.replace(`'live ${i}'`, `'live ${i}b'`)}; UPDATE todos SET title = title || '!' WHERE owner_id = '${owner}' AND title LIKE 'seed 1%'; DELETE FROM todos WHERE owner_id = '${owner}' AND title = 'seed ${i}'`)
    } else {
      await app.db.sql(insert)
    }
  }
}

/** The rows a sequence of events leaves, by key. */
function materialize<Row>(events: TrackedEvent<Row>[]): Map<string, Row> {
  const rows = new Map<string, Row>()
  for (const { data } of events) {
    if (data.type === 'must-refetch') rows.clear()
    else if (data.type === 'insert' || data.type === 'update') rows.set(data.key, data.row)
    else if (data.type === 'delete') rows.delete(data.key)
  }
  return rows
}

const changeIds = (r: Recording) => r.events.filter((e) => 'key' in e.data).map((e) => e.id)
const isChange = (e: SyncEvent<unknown>) => 'key' in e

async function settled(owner: string, ...recordings: Recording[]): Promise<void> {
  const expected = await app.db.prisma.todo.findMany({ where: { ownerId: owner } })
  const keys = new Set(expected.map((r) => r.id))
  await until(() => recordings.every((r) => {
    const rows = materialize(r.events)
    return endsUpToDate(r.events.at(-1)?.data) && rows.size === keys.size && [...rows.values()].every((row: any) => keys.has(row.id))
  }), 'subscribers to catch up', 30_000)
  for (const r of recordings) expect([...materialize(r.events).values()].sort((a: any, b: any) => a.id.localeCompare(b.id)))
    .toEqual([...expected].sort((a, b) => a.id.localeCompare(b.id)))
}

describe('resuming shape subscriptions', () => {
  it('resumes a socket killed mid-snapshot, mid-transaction and mid-live with no duplicate and no gap', async () => {
    await seed('kim', 300)
    const reference = record(app.client('kim').todos.sync, {})
    const victimClient = app.client('kim')
    const kills = new Set([1, 17, 120, 290, 330, 420, 421, 520])
    let killed = 0
    const victim = record(victimClient.todos.sync, {}, (_event, count) => {
      if (!kills.has(count)) return
      killed++
      ;(victimClient.$ws.connection?.ws as unknown as WebSocket | undefined)?.terminate()
    })
    await until(() => reference.upToDates > 0 && victim.upToDates > 0, 'both subscribers ready', 30_000)
    await writes('kim', 150)
    await settled('kim', reference, victim)
    expect(killed).toBe(kills.size)
    expect(victim.data().some((e) => e.type === 'must-refetch')).toBe(false)
    expect(changeIds(victim)).toEqual(changeIds(reference))
    expect(new Set(changeIds(victim)).size).toBe(changeIds(victim).length)
    expect(victim.error).toBeUndefined()
    reference.stop()
    victim.stop()
  })

  it('moves subscriptions to a new socket when the server asks clients to reconnect', async () => {
    await seed('lee', 50)
    const reference = record(app.client('lee').todos.sync, {})
    const moved = record(app.client('lee').todos.sync, {})
    await until(() => reference.upToDates > 0 && moved.upToDates > 0, 'both subscribers ready')
    const load = writes('lee', 100)
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 30))
      app.ws.broadcastReconnectNotification()
    }
    await load
    await settled('lee', reference, moved)
    expect(changeIds(moved)).toEqual(changeIds(reference))
    reference.stop()
    moved.stop()
  })

  it('survives a restart of the WebSocket server (graceful close, then a new one on the same port)', async () => {
    await seed('max', 20)
    const reference = record(app.sseClient('max').todos.sync, {})
    const client = app.client('max')
    const live = liveShape(client.todos.sync, {})
    const restarted = record(client.todos.sync, {})
    await live.ready
    await until(() => reference.upToDates > 0 && restarted.upToDates > 0, 'subscribers ready')
    const load = writes('max', 60)
    await new Promise((r) => setTimeout(r, 50))
    await app.restartWs()
    await load
    await settled('max', reference, restarted)
    expect(changeIds(restarted)).toEqual(changeIds(reference))
    const expected = await app.db.prisma.todo.findMany({ where: { ownerId: 'max' } })
    await until(() => live.rows.size === expected.length, 'the live shape to catch up')
    expect([...live.rows.values()].sort((a, b) => a.id.localeCompare(b.id))).toEqual(expected.sort((a, b) => a.id.localeCompare(b.id)))
    live.close()
    reference.stop()
    restarted.stop()
  })

  it('serves and resumes over SSE (httpSubscriptionLink) too', async () => {
    await seed('ned', 100)
    const reference = record(app.client('ned').todos.sync, {})
    const before = new Set(TestEventSource.instances)
    const sse = record(app.sseClient('ned').todos.sync, {}, (_event, count) => {
      if (count % 37 !== 0) return
      for (const source of TestEventSource.instances) if (!before.has(source)) source.interrupt()
    })
    await until(() => reference.upToDates > 0 && sse.upToDates > 0, 'both subscribers ready')
    await writes('ned', 80)
    await settled('ned', reference, sse)
    expect(sse.events.filter((e) => isChange(e.data)).length).toBeGreaterThan(180)
    expect(changeIds(sse)).toEqual(changeIds(reference))
    reference.stop()
    sse.stop()
  })
})
