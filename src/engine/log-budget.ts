// The byte budget of all shape logs together (limits.logBytes). Every log reports the change of its
// heap as it happens (snapshot chunks loaded, entries appended, rotation); when the total passes the
// budget, shapes are evicted until it is back under it: first those no reader is reading, the least
// recently used first (a dropped client's shapes go at once); then, if that is not enough, read ones,
// the largest first, so that a few big shapes (an attacker's whole-table wheres) go before the many
// small ones of everyone else. A log whose snapshot still runs is never evicted (its readers wait for it).
// Eviction rotates the log: its readers get must-refetch, refetch, and converge on a new log.
import type { ShapeLog } from './shape-log.js'

export class LogBudget {
  /** Heap held by all logs, bytes (the sum of their `heapBytes`). */
  total = 0

  constructor(
    private readonly maxBytes: number,
    private readonly logs: () => Iterable<ShapeLog>,
    private readonly evict: (log: ShapeLog) => void,
  ) {}

  /** Records a change of `log`'s heap; evicts others when the total is over the budget. */
  charge(log: ShapeLog, delta: number): void {
    this.total += delta
    if (delta > 0 && this.total > this.maxBytes) this.relieve(log)
  }

  /** Evicts in coldestFirst order until the total is under the budget; `growing` (the log that grew) is kept. */
  private relieve(growing: ShapeLog): void {
    const candidates = [...this.logs()].filter((l) => l !== growing && l.ready && !l.rotated).sort(coldestFirst)
    for (const log of candidates) {
      if (this.total <= this.maxBytes) return
      this.evict(log)
    }
  }
}

/** Idle logs (no reader in a request) before read ones; idle ones least recently used first, read ones largest first. */
export function coldestFirst(a: ShapeLog, b: ShapeLog): number {
  const idle = Number(b.activeReaders === 0) - Number(a.activeReaders === 0)
  if (idle !== 0) return idle
  return a.activeReaders === 0 ? a.lastUsed - b.lastUsed : b.heapBytes - a.heapBytes
}

/** The coldest log no reader is reading, whose snapshot is done: the one to evict to make room for a new shape. */
export function coldestIdle(logs: Iterable<ShapeLog>): ShapeLog | undefined {
  let coldest: ShapeLog | undefined
  for (const log of logs) {
    if (!log.ready || log.rotated || log.activeReaders > 0) continue
    if (!coldest || log.lastUsed < coldest.lastUsed) coldest = log
  }
  return coldest
}
