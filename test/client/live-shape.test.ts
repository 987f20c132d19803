// The live shape's own logic, fed a scripted event sequence (what a subscription delivers): batches
// applied at up-to-date, must-refetch replacing the rows, awaitTxId from changes or snapshot bounds
// (32-bit txids against 64-bit snapshot xids), closing.
import { describe, expect, it } from 'vitest'
import { LiveShape, TxidTimeoutError, visibleInSnapshot, type SyncEvent, type TrackedEvent } from '../../client/index.js'

type Row = { id: string; n: number }

/** An event source the test pushes into, as a subscription would deliver. */
function scripted() {
  const queue: TrackedEvent<Row>[] = []
  let wake: (() => void) | undefined
  let ended = false
  let failure: unknown
  let seq = 0
  const push = (...events: SyncEvent<Row>[]) => {
    for (const data of events) queue.push({ id: String(++seq), data })
    wake?.()
  }
  async function* source(signal: AbortSignal): AsyncIterable<TrackedEvent<Row>> {
    signal.addEventListener('abort', () => wake?.())
    for (;;) {
      while (queue.length) yield queue.shift()!
      if (failure) throw failure
      if (ended || signal.aborted) return
      await new Promise<void>((r) => (wake = r))
    }
  }
  return { source, push, end: () => { ended = true; wake?.() }, fail: (e: unknown) => { failure = e; wake?.() } }
}

const insert = (id: string, n: number, txid = 1): SyncEvent<Row> => ({ type: 'insert', key: id, row: { id, n }, txids: [txid] })
const upToDate: SyncEvent<Row> = { type: 'up-to-date' }
const tick = () => new Promise((r) => setTimeout(r, 0))

describe('LiveShape', () => {
  it('applies a batch only at up-to-date, and tells listeners once per batch', async () => {
    const s = scripted()
    const live = new LiveShape<Row>(s.source)
    const seen: [number, number][] = []
    live.subscribe((rows, changes) => seen.push([rows.size, changes.length]))
    s.push(insert('a', 1), insert('b', 2))
    await tick()
    expect(live.rows.size).toBe(0)
    s.push({ type: 'snapshot-end', xmin: '100', xmax: '105', xip: ['102'] }, upToDate)
    await live.ready
    expect(live.toArray()).toEqual([{ id: 'a', n: 1 }, { id: 'b', n: 2 }])
    s.push({ type: 'update', key: 'a', row: { id: 'a', n: 10 }, changes: { n: 10 }, txids: [106] }, { type: 'delete', key: 'b', row: { id: 'b', n: 2 }, txids: [106] }, upToDate)
    await tick()
    expect(live.toArray()).toEqual([{ id: 'a', n: 10 }])
    expect(seen).toEqual([[2, 2], [1, 2]])
    live.close()
  })

  it('applies a batch at a change that carries its up-to-date, as at a separate up-to-date', async () => {
    const s = scripted()
    const live = new LiveShape<Row>(s.source)
    const seen: [number, number][] = []
    live.subscribe((rows, changes) => seen.push([rows.size, changes.length]))
    s.push(insert('a', 1), { type: 'insert', key: 'b', row: { id: 'b', n: 2 }, txids: [7], upToDate: true })
    await live.ready
    expect(live.toArray()).toEqual([{ id: 'a', n: 1 }, { id: 'b', n: 2 }])
    await live.awaitTxId(7) // the carried up-to-date records the batch's txids too
    s.push({ type: 'delete', key: 'a', row: { id: 'a', n: 1 }, txids: [8], upToDate: true })
    await tick()
    expect(live.toArray()).toEqual([{ id: 'b', n: 2 }])
    expect(seen).toEqual([[2, 2], [1, 1]])
    live.close()
  })

  it('tells listeners only of batches that changed the rows, not of idle up-to-dates', async () => {
    const s = scripted()
    const live = new LiveShape<Row>(s.source)
    const seen: number[] = []
    live.subscribe((_rows, changes) => seen.push(changes.length))
    s.push(upToDate) // an empty shape's first up-to-date
    await live.ready
    s.push(upToDate, upToDate) // idle long-poll turns
    await tick()
    expect(seen).toEqual([])
    s.push(insert('a', 1), upToDate, upToDate)
    await tick()
    expect(seen).toEqual([1])
    s.push({ type: 'must-refetch' }, upToDate) // the rows were replaced by an empty snapshot
    await tick()
    expect(seen).toEqual([1, 0])
    expect(live.rows.size).toBe(0)
    live.close()
  })

  it('finds a row by its id, or by the key getKey gives, through updates, deletes and refetches', async () => {
    const s = scripted()
    const live = new LiveShape<Row>(s.source)
    s.push(insert('"public"."t"/"a"', 1), upToDate)
    await live.ready
    // Events key rows by Electric's key; get() takes the row's own id.
    const keyed = (id: string, n: number): SyncEvent<Row> => ({ type: 'insert', key: `"public"."t"/"${id}"`, row: { id, n }, txids: [1] })
    s.push(keyed('b', 2), { type: 'update', key: '"public"."t"/"b"', row: { id: 'b', n: 20 }, changes: { n: 20 }, txids: [2] }, upToDate)
    await tick()
    expect(live.get('b')).toEqual({ id: 'b', n: 20 })
    expect(live.rows.get('b')).toBeUndefined()
    s.push({ type: 'delete', key: '"public"."t"/"b"', row: { id: 'b', n: 20 }, txids: [3] }, upToDate)
    await tick()
    expect(live.get('b')).toBeUndefined()
    s.push({ type: 'must-refetch' }, keyed('c', 3), upToDate)
    await tick()
    expect([live.get('a'), live.get('c')]).toEqual([undefined, { id: 'c', n: 3 }])
    live.close()

    type Member = { projectId: number; userId: string; role: string }
    const m = scripted() as unknown as { source: (signal: AbortSignal) => AsyncIterable<TrackedEvent<Member>>; push: (...e: SyncEvent<Member>[]) => void }
    const members = new LiveShape<Member, string>(m.source, { getKey: (row) => `${row.projectId}:${row.userId}` })
    m.push({ type: 'insert', key: 'k1', row: { projectId: 1, userId: 'u', role: 'owner' }, txids: [1] }, { type: 'up-to-date' })
    await members.ready
    expect(members.get('1:u')?.role).toBe('owner')
    // @ts-expect-error: the key is what getKey returns
    members.get(1)
    members.close()
  })

  it('replaces the rows after must-refetch, keeping the old ones visible until the new snapshot is complete', async () => {
    const s = scripted()
    const live = new LiveShape<Row>(s.source)
    s.push(insert('a', 1), insert('b', 2), upToDate)
    await live.ready
    s.push({ type: 'must-refetch' }, insert('c', 3))
    await tick()
    expect(live.isUpToDate).toBe(false)
    expect([...live.rows.keys()]).toEqual(['a', 'b'])
    s.push(upToDate)
    await tick()
    expect(live.toArray()).toEqual([{ id: 'c', n: 3 }])
    live.close()
  })

  it('resolves awaitTxId from a change once its batch is up to date, or from the snapshot bounds', async () => {
    const s = scripted()
    const live = new LiveShape<Row>(s.source)
    s.push({ type: 'snapshot-end', xmin: '1000', xmax: '1010', xip: ['1003'] }, upToDate)
    await live.ready
    await live.awaitTxId(999, { timeout: 0 }) // below xmin
    await live.awaitTxId(1005, { timeout: 0 }) // below xmax, not in progress
    const inProgress = live.awaitTxId(1003, { timeout: 1000 })
    const later = live.awaitTxId(1020)
    let done = false
    void later.then(() => (done = true))
    s.push(insert('x', 1, 1020))
    await tick()
    expect(done).toBe(false) // seen, but its batch is not complete yet
    s.push(insert('y', 2, 1003), upToDate)
    await Promise.all([inProgress, later])
    await expect(live.awaitTxId(4242, { timeout: 10 })).rejects.toBeInstanceOf(TxidTimeoutError)
    live.close()
  })

  it('compares 32-bit txids with 64-bit snapshot xids in the same epoch', () => {
    const epoch = 5n << 32n
    const bounds = { xmin: String(epoch + 100n), xmax: String(epoch + 200n), xip: [String(epoch + 150n)] }
    expect(visibleInSnapshot(99, bounds)).toBe(true)
    expect(visibleInSnapshot(150, bounds)).toBe(false)
    expect(visibleInSnapshot(199, bounds)).toBe(true)
    expect(visibleInSnapshot(200, bounds)).toBe(false)
    // Across a wraparound: xmax just past an epoch boundary, txid just before it.
    const wrap = { xmin: String((6n << 32n) - 10n), xmax: String((6n << 32n) + 5n), xip: [] }
    expect(visibleInSnapshot(2 ** 32 - 3, wrap)).toBe(true)
    expect(visibleInSnapshot(4, wrap)).toBe(true)
    expect(visibleInSnapshot(5, wrap)).toBe(false)
  })

  it('rejects ready and waiting txids when the subscription fails; close rejects waiters and stops', async () => {
    const s = scripted()
    const failing = new LiveShape<Row>(s.source)
    const waiting = failing.awaitTxId(1)
    s.fail(new Error('FORBIDDEN'))
    await expect(failing.ready).rejects.toThrow('FORBIDDEN')
    await expect(waiting).rejects.toThrow('FORBIDDEN')
    await expect(failing.done).rejects.toThrow('FORBIDDEN')
    expect(failing.error).toBeInstanceOf(Error)

    const t = scripted()
    const closing = new LiveShape<Row>(t.source)
    const pending = closing.awaitTxId(7)
    closing.close()
    await expect(pending).rejects.toThrow('closed')
    await closing.done
  })

  it('isolates listeners: one that throws is reported, the others and the subscription go on', async () => {
    const s = scripted()
    const reported: unknown[] = []
    const live = new LiveShape<Row>(s.source, { onListenerError: (error) => reported.push(error) })
    const seen: number[] = []
    live.subscribe(() => { throw new Error('broken listener') })
    live.subscribe((rows) => seen.push(rows.size))
    s.push(insert('a', 1), upToDate)
    await live.ready
    s.push(insert('b', 2), upToDate)
    await tick()
    expect(seen).toEqual([1, 2])
    expect(reported.map((e) => (e as Error).message)).toEqual(['broken listener', 'broken listener'])
    expect(live.error).toBeUndefined()
    expect(live.toArray()).toEqual([{ id: 'a', n: 1 }, { id: 'b', n: 2 }])
    live.close()
    await live.done
  })
})
