// Exact resume points: a subscriber that resumes from any event id it holds gets exactly the events an
// uninterrupted subscriber got after that event. The snapshot here spans several chunks and the log
// already holds changes when the last chunk is read (a source may serve them in the same response as
// snapshot-end, whose own position is the snapshot's end, `0_inf`). Over SSE (httpSubscriptionLink), a
// connection cut in the middle of a multi-change transaction resumes at the entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TrackedEvent } from '../../client/index.js'
import { TestEventSource } from './event-source.js'
import { endsUpToDate, logOf, record, startApp, until, type Recording, type TestApp } from './support.js'

let app: TestApp
beforeAll(async () => {
  app = await startApp({ engine: { chunkBytes: 3000 } })
})
afterAll(async () => {
  await app?.close()
})

const shapeFor = (owner: string) => app.sync.shape(app.db.prisma.todo, { where: { AND: [{ ownerId: owner }, {}] } })
/**
 * The events as ids, an up-to-date as its position: a change that carries its batch's up-to-date counts
 * as the change and then that up-to-date (a resumed subscription sends its first up-to-dates on their own).
 */
const ids = (events: TrackedEvent<unknown>[]) => events.flatMap((e) => {
  const at = `up-to-date@${e.id.split(':')[2]}`
  if (e.data.type === 'up-to-date') return [at]
  return 'upToDate' in e.data && e.data.upToDate ? [e.id, at] : [e.id]
})
const upToDate = (r: Recording, count: number) => r.events.length >= count && endsUpToDate(r.events.at(-1)?.data)

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
  it('resumes from every event id of a multi-chunk snapshot with changes already logged, without gap or repeat', async () => {
    const owner = 'pia'
    await app.db.sql(`INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), 'seed ' || i, $1 FROM generate_series(1, 80) i`, [owner])
    // The log (and its snapshot) exists before any subscriber; changes land in it before the last chunk is read.
    const log = await logOf(app, shapeFor(owner))
    await changes(owner, 3)
    await until(() => log.entryCount >= 15, 'the changes to reach the log')
    const client = app.client(owner)
    const reference = record(client.todos.sync, {})
    await until(() => upToDate(reference, 90), 'the reference subscriber')
    const all = reference.events.slice()
    reference.stop()
    const snapshotEnd = all.findIndex((e) => e.data.type === 'snapshot-end')
    expect(snapshotEnd).toBeGreaterThan(0)
    // Rows of several chunks (`r:<skip>:<chunk offset>:...`).
    expect(new Set(all.slice(0, snapshotEnd).map((e) => e.id.split(':')[2])).size).toBeGreaterThan(2)
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
