// What a collection's synced data is known to contain, by txid: the txids of the changes committed
// to it, and the bounds of the last snapshot it loaded. Waiters resolve once their txid is in either.
import { TxidTimeoutError } from '../live-shape.js'
import { visibleInSnapshot, type SnapshotBounds } from '../txid.js'

interface Waiter {
  txid: number
  resolve(value: true): void
  reject(error: unknown): void
  timer: ReturnType<typeof setTimeout> | undefined
}

export class TxidTracker {
  /** Recent committed txids, oldest first (a Set keeps insertion order). */
  private readonly seen = new Set<number>()
  private bounds: SnapshotBounds | undefined
  private readonly waiters = new Set<Waiter>()
  private failure: unknown

  constructor(private readonly memory = 10_000) {}

  /** Starts a sync session: forgets the previous one's evidence and failure. */
  reset(): void {
    this.seen.clear()
    this.bounds = undefined
    this.failure = undefined
  }

  /** Records what a commit made part of the synced data; a later snapshot contains every earlier one. */
  record(txids: Iterable<number>, bounds: SnapshotBounds | undefined): void {
    for (const txid of txids) this.remember(txid)
    if (bounds) this.bounds = bounds
    for (const waiter of this.waiters) if (this.has(waiter.txid)) this.settle(waiter)
  }

  /** Rejects every waiter, and later waits until the next reset, with `error`. */
  fail(error: unknown): void {
    this.failure = error
    for (const waiter of this.waiters) this.settle(waiter, error)
  }

  has(txid: number): boolean {
    return this.seen.has(txid) || (this.bounds !== undefined && visibleInSnapshot(txid, this.bounds))
  }

  wait(txid: number, timeout: number): Promise<true> {
    if (this.has(txid)) return Promise.resolve(true)
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { txid, resolve, reject, timer: undefined }
      if (timeout !== Infinity) waiter.timer = setTimeout(() => this.settle(waiter, new TxidTimeoutError(txid, timeout)), timeout)
      this.waiters.add(waiter)
    })
  }

  private remember(txid: number): void {
    this.seen.delete(txid)
    this.seen.add(txid)
    if (this.seen.size > this.memory) this.seen.delete(this.seen.values().next().value!)
  }

  private settle(waiter: Waiter, error?: unknown): void {
    if (!this.waiters.delete(waiter)) return
    clearTimeout(waiter.timer)
    if (error === undefined) waiter.resolve(true)
    else waiter.reject(error)
  }
}
