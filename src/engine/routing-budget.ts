// Routing a transaction in slices, so that no transaction, however many rows and shapes it meets, holds
// the event loop for more than about one slice: the engine asks `spent()` between changes, between the
// shapes a change reaches and between the where clauses it evaluates one by one; once a slice has run
// `sliceMs`, it awaits `next()` (setImmediate: timers, sockets and other clients' requests run first).
// Each log it touches then gets the transaction's messages in one synchronous append (a reader never sees
// part of a transaction; slices may fall between two logs), and the next transaction is not routed before
// this one finished (the replication stream awaits each), keeping commit order.
import type { MatchBudget } from '../where/index.js'

/** Calls of `spent()` between two clock reads: a where clause evaluates in well under a microsecond. */
const CHECK_EVERY = 8

export class SliceBudget implements MatchBudget {
  private deadline: number
  private calls = 0
  /** Slices this transaction was routed in, minus one: how often it let others run. */
  pauses = 0

  constructor(private readonly sliceMs: number) {
    this.deadline = performance.now() + sliceMs
  }

  spent(): boolean {
    if (++this.calls % CHECK_EVERY !== 0) return false
    return performance.now() >= this.deadline
  }

  async next(): Promise<void> {
    this.pauses++
    await new Promise<void>((resolve) => setImmediate(resolve))
    this.deadline = performance.now() + this.sliceMs
  }
}
