// Server-side prefetch and a client that resumes from it, over the real test app: the snapshot is the
// user's shape (the procedure's auth decides it), a client started from it receives no snapshot row
// again — only the changes made after the render, including those made before it connected — and
// awaitTxId works against the snapshot. Ids signed with another key refetch instead of resuming.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveShape, parseSnapshot, type ShapeProcedure, type ShapeSnapshot, type TrackedEvent } from '../../client/index.js'
import { prefetch, prefetchShape, serializeSnapshot } from '../../src/index.js'
import { appRouter } from '../trpc/app.js'
import { byId, converges, logOf, startApp, type TestApp } from '../trpc/support.js'

const secret = 'prefetch-test-secret'
let app: TestApp
let caller: (userId: string | null) => ReturnType<ReturnType<typeof appRouter>['createCaller']>
beforeAll(async () => {
  app = await startApp({ subscription: { secret } })
  // The router the WebSocket server serves, built once more for server-side calls (same secret).
  const router = appRouter(app.sync, app.db.prisma, { secret })
  caller = (userId) => router.createCaller({ userId })
})
afterAll(async () => {
  await app?.close()
})

async function insert(owner: string, title: string): Promise<number> {
  const [row] = await app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), $1, $2) RETURNING xmin::text AS xid`, [title, owner])
  return Number(row.xid)
}

const todosOf = async (owner: string) => byId(await app.db.prisma.todo.findMany({ where: { ownerId: owner } }))

/** The procedure, with every event it delivers recorded. */
function recorded<I, Row>(procedure: ShapeProcedure<I, Row>) {
  const events: TrackedEvent<Row>[] = []
  const inputs: unknown[] = []
  const tapped: ShapeProcedure<I, Row> = {
    subscribe(input, opts) {
      inputs.push(input)
      const source = procedure.subscribe(input, opts)
      return (async function* () {
        for await (const event of source) {
          events.push(event)
          yield event
        }
      })()
    },
  }
  return { procedure: tapped, events, inputs, kinds: () => events.map((e) => e.id.slice(0, 1)) }
}

describe('prefetch and resume', () => {
  it('snapshots the caller\'s shape, and a client resumes from it without the rows again', async () => {
    const before = await insert('u-pre', 'before render 1')
    await insert('u-pre', 'before render 2')
    await insert('u-other', 'not mine')
    const snapshot = await prefetch(caller('u-pre').todos.sync({}))
    expect(byId(snapshot.rows.map(([, row]) => row))).toEqual(await todosOf('u-pre'))
    expect(snapshot.lastEventId).toMatch(/^u:/)
    expect(snapshot.bounds).not.toBeNull()
    // The read ended with the snapshot: no reader left behind.
    const log = await logOf(app, app.sync.shape(app.db.prisma.todo, { where: { AND: [{ ownerId: 'u-pre' }, {}] } }))
    expect(log.activeReaders).toBe(0)

    // Through the page: JSON text safe in a script element, Dates intact.
    const text = serializeSnapshot(snapshot)
    expect(text).not.toMatch(/[<>]/)
    const initial = parseSnapshot<(typeof snapshot.rows)[number][1]>(text)
    expect(initial).toEqual(snapshot)

    // Written after the render, before the client connects.
    const between = await insert('u-pre', '<b>between</b> render and connect')
    await app.db.sql(`UPDATE todos SET is_completed = true WHERE title = 'before render 2'`)

    const client = app.client('u-pre')
    const tap = recorded(client.todos.sync)
    const live = liveShape(tap.procedure, {}, { initial })
    // The snapshot's rows at once, ready, and awaitTxId against its bounds.
    expect(byId(live.toArray())).toEqual(byId(snapshot.rows.map(([, row]) => row)))
    expect(live.isUpToDate).toBe(true)
    await live.ready
    await live.awaitTxId(before, { timeout: 0 })
    expect(tap.inputs).toEqual([{ lastEventId: snapshot.lastEventId }])

    await live.awaitTxId(between, { timeout: 5000 })
    await converges(() => byId(live.toArray()), () => todosOf('u-pre'), 'the resumed client')
    // Only the changes since the render: no snapshot row, no refetch.
    expect(tap.kinds().filter((k) => k === 'r' || k === 'm')).toEqual([])
    expect(tap.events.filter((e) => 'key' in e.data).map((e) => e.data.type)).toEqual(['insert', 'update'])

    const { txid } = await client.todos.mutate.mutate([{ type: 'insert', modified: { id: crypto.randomUUID(), title: 'from the client', ownerId: 'u-pre' }, syncMetadata: { relation: 'todos' } }])
    await live.awaitTxId(txid, { timeout: 5000 })
    expect(live.toArray().map((r) => r.title)).toContain('from the client')
    live.close()
  })

  it('runs the procedure\'s auth: no user, no snapshot', async () => {
    await expect(prefetch(caller(null).todos.sync({}))).rejects.toMatchObject({ code: 'FORBIDDEN' })
  })

  it('prefetchShape signs with the subscription\'s secret; another key refetches instead of resuming', async () => {
    await insert('u-shape', 'one')
    const shape = app.sync.shape(app.db.prisma.todo, { where: { AND: [{ ownerId: 'u-shape' }, {}] } })
    const signed = await prefetchShape(app.sync, shape, { secret })
    const unsigned = await prefetchShape(app.sync, shape)
    expect(signed.rows).toEqual(unsigned.rows)
    await insert('u-shape', 'two')

    const resumes = recorded(app.client('u-shape').todos.sync)
    const resumed = liveShape(resumes.procedure, {}, { initial: signed })
    const refetches = recorded(app.client('u-shape').todos.sync)
    const refetched = liveShape(refetches.procedure, {}, { initial: unsigned })
    await converges(() => byId(resumed.toArray()), () => todosOf('u-shape'), 'the resumed client')
    await converges(() => byId(refetched.toArray()), () => todosOf('u-shape'), 'the refetching client')
    expect(resumes.kinds()).toEqual(['c', 'u'])
    // Not signed with the subscription's key: must-refetch, then the rows again.
    expect(refetches.kinds()[0]).toBe('m')
    expect(refetches.kinds()).toContain('r')
    resumed.close()
    refetched.close()
  })

  it('a live shape\'s own snapshot starts another one where it was', async () => {
    await insert('u-again', 'first')
    const first = liveShape(app.client('u-again').todos.sync, {})
    await first.ready
    const snapshot: ShapeSnapshot<unknown> | undefined = first.snapshot()
    first.close()
    expect(snapshot?.rows).toHaveLength(1)
    await insert('u-again', 'second')
    const tap = recorded(app.client('u-again').todos.sync)
    const second = liveShape(tap.procedure, {}, { initial: first.snapshot() })
    await converges(() => byId(second.toArray()), () => todosOf('u-again'), 'the second live shape')
    expect(tap.kinds()).toEqual(['c', 'u'])
    second.close()
  })
})
