// Whether a transaction's effects are in a snapshot, from `pg_current_snapshot()`'s bounds: visible if
// its xid is below xmin, or below xmax and not in progress (xip). Txids from `pg_current_xact_id()::xid`
// are 32-bit while the bounds are 64-bit: the txid is placed in the epoch nearest to xmax first.
// TxidTracker keeps what synced data is known to contain (committed txids, the last snapshot's bounds)
// for `awaitTxId`, in live shapes and TanStack DB collections alike.

export interface SnapshotBounds {
  xmin: string
  xmax: string
  xip: string[]
}

export function visibleInSnapshot(txid: number, bounds: SnapshotBounds): boolean {
  const xmax = BigInt(bounds.xmax)
  const full = widen(txid, xmax)
  if (full < BigInt(bounds.xmin)) return true
  return full < xmax && !bounds.xip.includes(full.toString())
}

/** A 32-bit xid as the 64-bit xid nearest to `near`. */
export function widen(xid: number, near: bigint): bigint {
  let full = ((near >> 32n) << 32n) | BigInt(xid >>> 0)
  if (full > near + 0x80000000n) full -= 0x100000000n
  else if (full < near - 0x80000000n) full += 0x100000000n
  return full
}

export class TxidTimeoutError extends Error {
  constructor(readonly txid: number, timeoutMs: number) {
    super(`txid ${txid} not seen in this shape within ${timeoutMs} ms`)
    this.name = 'TxidTimeoutError'
  }
}

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

  /** Txids remembered, oldest first. */
  get txids(): number[] {
    return [...this.seen]
  }

  /** Bounds of the last snapshot recorded. */
  get snapshotBounds(): SnapshotBounds | undefined {
    return this.bounds
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

  /** Resolves once `txid` is known to be in the data; `checkNow: false` waits for the next record() first. */
  wait(txid: number, timeout: number, checkNow = true): Promise<true> {
    if (checkNow && this.has(txid)) return Promise.resolve(true)
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
