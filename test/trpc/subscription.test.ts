// Shape subscriptions end to end: real @trpc/client over real WebSockets to createSyncWSServer, on the
// embedded engine over a real Postgres, with writes made in SQL outside the app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomUUID } from 'node:crypto'
import { Prisma } from '../../generated/prisma/client.js'
import { liveShape, TxidTimeoutError } from '../../client/index.js'
import { byId, converges, record, startApp, until, type TestApp } from './support.js'

let app: TestApp
beforeAll(async () => {
  app = await startApp()
})
afterAll(async () => {
  await app?.close()
})

const insertTodo = (title: string, ownerId: string, completed = false) =>
  app.db.sql(`INSERT INTO todos (id, title, owner_id, is_completed) VALUES (gen_random_uuid(), $1, $2, $3)`, [title, ownerId, completed])

describe('shape subscriptions', () => {
  it('keeps each client equal to findMany for its user and filter', async () => {
    await insertTodo('a1', 'alice')
    await insertTodo('a2 done', 'alice', true)
    await insertTodo('b1', 'bob')
    const alice = app.client('alice')
    const bob = app.client('bob')
    const aliceAll = liveShape(alice.todos.sync, {})
    const aliceOpen = liveShape(alice.todos.sync, { where: { completed: false } })
    const aliceSearch = liveShape(alice.todos.sync, { where: { title: { contains: 'DONE', mode: 'insensitive' } } })
    const bobAll = liveShape(bob.todos.sync, {})
    const cases = [
      { live: aliceAll, where: { ownerId: 'alice' } },
      { live: aliceOpen, where: { ownerId: 'alice', completed: false } },
      { live: aliceSearch, where: { ownerId: 'alice', title: { contains: 'done', mode: 'insensitive' as const } } },
      { live: bobAll, where: { ownerId: 'bob' } },
    ]
    await Promise.all(cases.map((c) => c.live.ready))
    for (const { live, where } of cases) expect(byId(live.rows.values())).toEqual(byId(await app.db.prisma.todo.findMany({ where })))

    await insertTodo('a3', 'alice')
    await insertTodo('b2 done', 'bob', true)
    await app.db.sql(`UPDATE todos SET is_completed = true WHERE title = 'a1'`) // moves out of aliceOpen
    await app.db.sql(`UPDATE todos SET title = 'a2 DONE!' WHERE title = 'a2 done'`)
    await app.db.sql(`DELETE FROM todos WHERE title = 'b1'`)
    for (const { live, where } of cases) {
      await converges(() => byId(live.rows.values()), async () => byId(await app.db.prisma.todo.findMany({ where })), 'rows to follow SQL writes')
    }
    for (const { live } of cases) live.close()
  })

  it('sends a batch\'s last change and its up-to-date as one event, and a resumed subscription its first up-to-date on its own', async () => {
    const owner = `one-frame-${randomUUID()}`
    const live = record(app.client(owner).todos.sync, {})
    await until(() => live.upToDates > 0, 'the first up-to-date')
    const start = live.events.length
    await app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'a', $1), (gen_random_uuid(), 'b', $1)`, [owner])
    await until(() => live.upToDates > 1, 'the transaction')
    const frames = live.events.slice(start)
    expect(frames.map((e) => [e.data.type, (e.data as { upToDate?: true }).upToDate ?? false])).toEqual([['insert', false], ['insert', true]])
    expect(frames.map((e) => e.id[0])).toEqual(['c', 'c']) // a change's id whatever rides on it
    expect(live.data().slice(-3).map((e) => e.type)).toEqual(['insert', 'insert', 'up-to-date'])

    const resumed = record(app.client(owner).todos.sync, { lastEventId: live.events[start]!.id })
    await until(() => resumed.upToDates > 0, 'the resumed subscription')
    expect(resumed.events.map((e) => [e.data.type, (e.data as { upToDate?: true }).upToDate ?? false])).toEqual([['insert', false], ['up-to-date', false]])
    expect(resumed.events[0]!.id).toBe(live.events[start + 1]!.id)
    live.stop()
    resumed.stop()
  })

  it('keeps a live shape and its other listeners going when one listener throws', async () => {
    const reported: unknown[] = []
    const live = liveShape(app.client('gina').todos.sync, {}, { onListenerError: (error) => reported.push(error) })
    const sizes: number[] = []
    live.subscribe(() => { throw new Error('broken listener') })
    live.subscribe((rows) => sizes.push(rows.size))
    await live.ready
    await insertTodo('g1', 'gina')
    await until(() => live.rows.size === 1, 'the first row')
    await insertTodo('g2', 'gina')
    await until(() => live.rows.size === 2 && sizes.includes(2), 'the second row, told to the healthy listener')
    expect(reported.length).toBeGreaterThan(0)
    expect(live.error).toBeUndefined()
    live.close()
  })

  it('never sends a user another user\'s rows', async () => {
    const dave = app.client('dave')
    const seen = record(dave.todos.sync, {})
    await until(() => seen.upToDates > 0, 'first up-to-date')
    await insertTodo('erin 1', 'erin')
    await insertTodo('dave 1', 'dave')
    await app.db.sql(`UPDATE todos SET owner_id = 'erin' WHERE title = 'dave 1'`) // moves out: a delete for dave
    await app.db.sql(`UPDATE todos SET owner_id = 'dave', title = 'was erin' WHERE title = 'erin 1'`) // moves in
    await until(() => seen.data().filter((e) => 'row' in e).length >= 3, 'dave\'s changes')
    const changes = seen.data().flatMap((e) => ('row' in e ? [e] : []))
    expect(changes.map((e) => [e.type, e.row.title])).toEqual([['insert', 'dave 1'], ['delete', 'dave 1'], ['insert', 'was erin']])
    // The delete carries the row as it was (still dave's); no event ever carries a row that was erin's then.
    expect(changes.every((e) => e.row.ownerId === 'dave')).toBe(true)
    seen.stop()
  })

  it('authenticates from a cookie', async () => {
    await insertTodo('frank 1', 'frank')
    const frank = liveShape(app.client(null, { cookie: 'session=x; user=frank' }).todos.sync, {})
    await frank.ready
    expect(frank.toArray().map((r) => r.title)).toEqual(['frank 1'])
    frank.close()
  })

  it('delivers findMany values (Decimal, bigint, Date, bytes, Json, enums, lists) and select-narrowed rows', async () => {
    await app.db.prisma.allTypes.createMany({
      data: [
        { str: 'x', bool: true, int: -5, big: 2n ** 62n, float: 1.5, dec: new Prisma.Decimal('12345678901234.123456'), date: new Date('2024-02-03T04:05:06.789Z'), json: { a: [1, null, 'x'] }, bytes: new Uint8Array([0, 1, 255]), status: 'in_progress', strs: ['a', 'b c'], ints: [1, 2] },
        { strs: [], ints: [] },
      ],
    })
    const client = app.client('gina')
    const all = liveShape(client.allTypes.sync, undefined)
    await insertTodo('gina 1', 'gina')
    const titles = liveShape(client.todos.titles, undefined)
    await Promise.all([all.ready, titles.ready])
    const expected = byId(await app.db.prisma.allTypes.findMany())
    const actual = byId(all.rows.values())
    // The client's Decimal is the browser build of Prisma's (another class): compare their digits.
    const digits = <R extends { dec: Prisma.Decimal | null }>(rows: R[]) => rows.map((r) => ({ ...r, dec: r.dec?.toFixed() ?? null }))
    expect(digits(actual)).toEqual(digits(expected))
    expect(Prisma.Decimal.isDecimal(actual.find((r) => r.dec !== null)!.dec)).toBe(true)
    expect(typeof actual.find((r) => r.big !== null)!.big).toBe('bigint')
    expect(actual.find((r) => r.date !== null)!.date).toBeInstanceOf(Date)
    expect(titles.toArray()).toEqual(await app.db.prisma.todo.findMany({ where: { ownerId: 'gina' }, select: { id: true, title: true } }))
    all.close()
    titles.close()
  })

  it('answers a filter outside the allowed fields and operators with BAD_REQUEST naming it', async () => {
    const client = app.client('alice')
    const cases: [unknown, string][] = [
      [{ where: { ownerId: 'bob' } }, '"ownerId"'],
      [{ where: { OR: [{ completed: true }, { ownerId: 'bob' }] } }, '"ownerId"'],
      [{ where: { title: { search: 'x' } } }, '"search"'],
      [{ where: { completed: { contains: 'x' } } }, '"contains"'],
      [{ where: { completed: 'yes' } }, 'completed'],
    ]
    for (const [input, named] of cases) {
      const attempt = record(client.todos.sync, input)
      await until(() => attempt.error !== undefined, `an error for ${JSON.stringify(input)}`)
      expect(attempt.error.data.code).toBe('BAD_REQUEST')
      expect(attempt.error.message).toContain(named)
      expect(attempt.error.message).toMatch(/^invalid filter: /) // a sentence, not zod's issue list as JSON
      expect(attempt.events).toEqual([])
    }
  })

  it('answers a shape the compiler or the source refuses with BAD_REQUEST', async () => {
    const client = app.client('alice')
    for (const [procedure, named] of [[client.broken.filter, 'search'], [client.broken.sql, 'syntax']] as const) {
      const attempt = record(procedure, undefined)
      await until(() => attempt.error !== undefined, `an error from ${named}`)
      expect(attempt.error.data.code).toBe('BAD_REQUEST')
      expect(attempt.error.message).toContain(named)
      expect(attempt.events).toEqual([])
    }
  })

  it('passes a FORBIDDEN from the shape function to the client, with no data', async () => {
    const attempt = record(app.client(null).todos.sync, {})
    await until(() => attempt.error !== undefined, 'an error')
    expect(attempt.error.data.code).toBe('FORBIDDEN')
    expect(attempt.error.message).toBe('log in to sync todos')
    expect(attempt.events).toEqual([])
  })

  it('answers a forged, malformed or foreign lastEventId with must-refetch and a fresh snapshot', async () => {
    await insertTodo('hank 1', 'hank')
    await insertTodo('hank 2', 'hank', true)
    const client = app.client('hank')
    const genuine = record(client.todos.sync, { where: { completed: false } })
    await until(() => genuine.upToDates > 0, 'a genuine subscription')
    await insertTodo('hank 3', 'hank')
    await until(() => genuine.data().some((e) => e.type === 'insert' && e.row.title === 'hank 3'), 'a live change')
    const liveId = genuine.events.find((e) => e.data.type === 'insert' && e.data.row.title === 'hank 3')!.id
    const rowId = genuine.events[0]!.id
    const tampered = liveId.replace(/:[^:]+$/, ':' + 'A'.repeat(22))
    const forgedOffset = liveId.replace(/:(\d+)_(\d+):/, ':1_0:')
    // ids of the open-todos shape, used on the all-todos shape: a different log
    for (const lastEventId of ['garbage', '', 'r:1:-1:x:y', tampered, forgedOffset, liveId, rowId]) {
      const resumed = record(client.todos.sync, { lastEventId })
      await until(() => resumed.upToDates > 0, `up-to-date after lastEventId ${lastEventId}`)
      const data = resumed.data()
      if (lastEventId !== '') expect(data[0]).toEqual({ type: 'must-refetch' })
      const rows = data.flatMap((e) => (e.type === 'insert' ? [e.row] : []))
      expect(byId(rows)).toEqual(byId(await app.db.prisma.todo.findMany({ where: { ownerId: 'hank' } })))
      expect(resumed.error).toBeUndefined()
      resumed.stop()
    }
    genuine.stop()
  })

  it('resolves awaitTxId for a sync.mutation txid in every matching subscription', async () => {
    const client = app.client('ivy')
    const all = liveShape(client.todos.sync, {})
    const open = liveShape(client.todos.sync, { where: { completed: false } })
    const done = liveShape(client.todos.sync, { where: { completed: true } })
    await Promise.all([all.ready, open.ready, done.ready])
    const id = randomUUID()
    const { txid } = await client.todos.mutate.mutate([{ type: 'insert', modified: { id, title: 'from the client', ownerId: 'ivy', completed: false } }])
    expect(typeof txid).toBe('number')
    await Promise.all([all.awaitTxId(txid), open.awaitTxId(txid)])
    expect(all.rows.size).toBe(1)
    expect(open.toArray().map((r) => r.id)).toEqual([id])
    await expect(done.awaitTxId(txid, { timeout: 300 })).rejects.toBeInstanceOf(TxidTimeoutError)
    // A shape that starts after the commit has the txid in its snapshot.
    const later = liveShape(client.todos.sync, {})
    await later.ready
    await later.awaitTxId(txid, { timeout: 0 })
    // Another user's writer refuses rows for someone else.
    await expect(client.todos.mutate.mutate([{ type: 'insert', modified: { id: randomUUID(), title: 'x', ownerId: 'alice' } }]))
      .rejects.toMatchObject({ data: { code: 'FORBIDDEN' } })
    for (const live of [all, open, done, later]) live.close()
  })
})
