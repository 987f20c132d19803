// Exact resume points: a subscriber that resumes from any event id it holds gets exactly the events an
// uninterrupted subscriber got after that event. The snapshot here spans several chunks and the log
// already holds changes when the last chunk is read, so that chunk is served together with log entries
// (the snapshot-end event sits in the middle of a response). Over SSE (httpSubscriptionLink), a
// connection cut in the middle of a multi-change transaction resumes at the entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TrackedEvent } from '../../client/index.js'
import { fullReplica } from '../../src/sync/sync.js'
import { TestEventSource } from './event-source.js'
import { logOf, record, startApp, until, type Recording, type TestApp } from './support.js'

let app: TestApp
beforeAll(async () => {
  app = await startApp({ engine: { chunkBytes: 3000 } })
})
afterAll(async () => {
  await app?.close()
})

const shapeFor = (owner: string) => app.sync.shape(app.db.prisma.todo, { where: { AND: [{ ownerId: owner }, {}] } })
const ids = (events: TrackedEvent<unknown>[]) => events.map((e) => e.id)
const upToDate = (r: Recording, count: number) => r.events.length >= count && r.events.at(-1)?.data.type === 'up-to-date'

/** Transactions of one to four changes on `owner`'s todos. */
async function changes(owner: string, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'change ${i}', $1)`, [owner])
    await app.db.sql(`
      INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'pair ${i}a', '${owner}'), (gen_random_uuid(), 'pair ${i}b', '${owner}');
      UPDATE todos SET title = title || '!' WHERE owner_id = '${owner}' AND title = 'seed ${i + 1}';
      DELETE FROM todos WHERE owner_id = '${owner}' AND title = 'seed ${i + 20}'`)
  }
}

describe('exact resume points', () => {
  it('resumes from every event id of a multi-chunk snapshot served with log entries, without gap or repeat', async () => {
    const owner = 'pia'
    await app.db.sql(`INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), 'seed ' || i, $1 FROM generate_series(1, 80) i`, [owner])
    // The log (and its snapshot) exists before any subscriber; changes land in it before the last chunk is read.
    const log = await logOf(app, shapeFor(owner))
    await changes(owner, 3)
    await until(() => log.entryCount >= 15, 'the changes to reach the log')
    const engine = await app.engine()
    const definition = fullReplica(shapeFor(owner))
    let read = await engine.fetch(definition, { offset: '-1' })
    const lastChunk = async () => {
      for (;;) {
        if (read.status !== 'ok') throw new Error('rotated')
        if (read.messages.some((m) => 'control' in m.headers && m.headers.control === 'snapshot-end')) return read.messages
        read = await engine.fetch(definition, { offset: read.offset, handle: read.handle })
      }
    }
    const served = await lastChunk()
    expect(read.status === 'ok' && read.offset).not.toBe('0_0') // several chunks
    // Log entries after snapshot-end, in the same response.
    const endAt = served.findIndex((m) => 'control' in m.headers && m.headers.control === 'snapshot-end')
    expect(served.slice(endAt + 1).some((m) => 'lsn' in m.headers)).toBe(true)

    const client = app.client(owner)
    const reference = record(client.todos.sync, {})
    await until(() => upToDate(reference, 90), 'the reference subscriber')
    const all = reference.events.slice()
    reference.stop()
    const snapshotEnd = all.findIndex((e) => e.data.type === 'snapshot-end')
    expect(snapshotEnd).toBeGreaterThan(0)
    expect(all.slice(snapshotEnd + 1).filter((e) => 'key' in e.data).length).toBeGreaterThanOrEqual(12)

    for (let i = 0; i < all.length - 1; i++) {
      const resumed = record(client.todos.sync, { lastEventId: all[i]!.id })
      await until(() => upToDate(resumed, 1), `a subscriber resumed after event ${i} (${all[i]!.data.type})`)
      resumed.stop()
      expect(ids(resumed.events), `resumed after event ${i} (${all[i]!.data.type})`).toEqual(ids(all.slice(i + 1)))
    }
  })

  it('resumes an SSE subscription cut inside a multi-change transaction at the entry', async () => {
    const owner = 'quinn'
    await app.db.sql(`INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), 'seed ' || i, $1 FROM generate_series(1, 30) i`, [owner])
    const reference = record(app.client(owner).todos.sync, {})
    const before = new Set(TestEventSource.instances)
    // Cut the connection right after the first change of each transaction with more than one.
    const sse = record(app.sseClient(owner).todos.sync, {}, (event) => {
      const data = event.data as { type: string; row?: { title?: string } }
      if (data.type !== 'insert' || !data.row?.title?.endsWith('a')) return
      for (const source of TestEventSource.instances) if (!before.has(source)) source.interrupt()
    })
    await until(() => upToDate(reference, 1) && upToDate(sse, 1), 'both subscribers ready')
    await changes(owner, 4)
    const changeIds = (r: Recording) => r.events.filter((e) => 'key' in e.data).map((e) => e.id)
    await until(() => changeIds(reference).length >= 30 + 4 * 5 && changeIds(sse).length >= changeIds(reference).length && upToDate(sse, 1), 'the SSE subscriber to catch up')
    expect(changeIds(sse)).toEqual(changeIds(reference))
    expect(sse.error).toBeUndefined()
    reference.stop()
    sse.stop()
  })
})
