// useLiveShape under react-dom/server: the snapshot's rows are rendered, ready, and nothing subscribes
// (a server render has no effects to close a subscription with). The store behind the hook, driven as
// React drives it: one subscription through StrictMode's unmount-remount, closed a turn after the
// last unsubscribe, resumed from where it stopped when subscribed again.
import { renderToString } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { LiveShape, type ShapeProcedure, type ShapeSnapshot, type TrackedEvent } from '../../client/index.js'
import { useLiveShape } from '../../client/react/index.js'
import { inputKey } from '../../client/react/input-key.js'
import { LiveShapeStore } from '../../client/react/store.js'

type Row = { id: string; title: string }

const snapshot: ShapeSnapshot<Row> = {
  rows: [['"public"."todos"/"1"', { id: '1', title: 'first <b>' }], ['"public"."todos"/"2"', { id: '2', title: 'second' }]],
  lastEventId: 'u:0:0_0:h:mac',
  bounds: { xmin: '10', xmax: '12', xip: ['11'] },
  txids: [20],
}

/** A procedure that records its subscriptions and delivers what the test pushes. */
function scripted() {
  const subscriptions: { input: unknown; signal: AbortSignal | undefined }[] = []
  let push: (event: TrackedEvent<Row>) => void = () => {}
  const procedure: ShapeProcedure<object | undefined, Row> = {
    subscribe(input, { signal }) {
      subscriptions.push({ input, signal })
      return (async function* () {
        const queue: TrackedEvent<Row>[] = []
        let wake: () => void = () => {}
        push = (event) => { queue.push(event); wake() }
        signal?.addEventListener('abort', () => wake())
        while (!signal?.aborted) {
          if (queue.length) yield queue.shift()!
          else await new Promise<void>((r) => (wake = r))
        }
      })()
    },
  }
  return { procedure, subscriptions, push: (event: TrackedEvent<Row>) => push(event) }
}

function Titles({ procedure, initial }: { procedure: ShapeProcedure<object | undefined, Row>; initial?: ShapeSnapshot<Row> }) {
  const { rows, isReady } = useLiveShape(procedure, { where: { completed: false } }, { initial })
  return <ul data-ready={isReady}>{rows.map((row) => <li key={row.id}>{row.title}</li>)}</ul>
}

const tick = () => new Promise((r) => setTimeout(r, 0))

describe('useLiveShape on the server', () => {
  it('renders the snapshot\'s rows, ready, without subscribing', () => {
    const { procedure, subscriptions } = scripted()
    expect(renderToString(<Titles procedure={procedure} initial={snapshot} />))
      .toBe('<ul data-ready="true"><li>first &lt;b&gt;</li><li>second</li></ul>')
    expect(renderToString(<Titles procedure={procedure} />)).toBe('<ul data-ready="false"></ul>')
    expect(subscriptions).toEqual([])
  })
})

describe('the store behind useLiveShape', () => {
  const open = (procedure: ShapeProcedure<object | undefined, Row>) => (from: ShapeSnapshot<Row> | undefined) =>
    new LiveShape<Row>((signal) => procedure.subscribe(from ? { lastEventId: from.lastEventId } : {}, { signal }), { initial: from })

  it('keeps one subscription through unmount-remount, closes it a turn after the last unsubscribe, and resumes', async () => {
    const { procedure, subscriptions, push } = scripted()
    const store = new LiveShapeStore<Row>('k', open(procedure), snapshot)
    const first = store.getSnapshot()
    expect(store.getServerSnapshot()).toBe(first)
    expect(first).toEqual({ rows: [snapshot.rows[0]![1], snapshot.rows[1]![1]], isReady: true, error: undefined })

    let changes = 0
    store.subscribe(() => changes++)() // StrictMode: subscribe, unsubscribe, subscribe again
    const unsubscribe = store.subscribe(() => changes++)
    expect(subscriptions).toHaveLength(1)
    expect(subscriptions[0]!.input).toEqual({ lastEventId: snapshot.lastEventId })
    await store.awaitTxId(11, { timeout: 0 }).then(() => { throw new Error('11 was in progress') }, () => {})
    await store.awaitTxId(20, { timeout: 0 })

    push({ id: 'c1', data: { type: 'insert', key: 'k3', row: { id: '3', title: 'third' }, txids: [30] } })
    await tick()
    expect(store.getSnapshot()).toBe(first) // applied at the up-to-date only
    push({ id: 'u1', data: { type: 'up-to-date' } })
    await tick()
    expect(changes).toBe(1)
    expect(store.getSnapshot().rows.map((r) => r.id)).toEqual(['1', '2', '3'])
    expect(store.getServerSnapshot()).toBe(first)

    unsubscribe()
    expect(subscriptions[0]!.signal!.aborted).toBe(false)
    await tick()
    expect(subscriptions[0]!.signal!.aborted).toBe(true)
    await expect(store.awaitTxId(30)).rejects.toThrow(/mounted/)

    store.subscribe(() => {})
    expect(subscriptions).toHaveLength(2)
    expect(subscriptions[1]!.input).toEqual({ lastEventId: 'u1' })
    await store.awaitTxId(30, { timeout: 0 })
  })

  it('reports a failed subscription as error, keeping the rows', async () => {
    const failing: ShapeProcedure<object | undefined, Row> = {
      subscribe: () => (async function* () { throw Object.assign(new Error('log in to sync todos'), { code: 'FORBIDDEN' }) })(),
    }
    const store = new LiveShapeStore<Row>('k', open(failing), snapshot)
    let changed = 0
    store.subscribe(() => changed++)
    await tick()
    expect(changed).toBe(1)
    expect(store.getSnapshot()).toMatchObject({ isReady: true, error: { code: 'FORBIDDEN' } })
    expect(store.getSnapshot().rows).toHaveLength(2)
  })

  it('compares inputs by value', () => {
    expect(inputKey({ where: { completed: false, title: 'a' } })).toBe(inputKey({ where: { title: 'a', completed: false } }))
    expect(inputKey({ where: { completed: false } })).not.toBe(inputKey({ where: { completed: true } }))
    expect(inputKey({ n: 1n, at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z","n":"1n"}')
    expect(inputKey(undefined)).toBe('undefined')
  })
})
