// At most `concurrentSnapshots` snapshots (a new shape's initial one, or a subset's) run at once; more
// wait their turn in arrival order, and past `queuedSnapshots` waiting the next is refused (429, retry
// later). Snapshots use a pool of their own of that many connections, so however many wait, catalog
// reads and publication changes (on the engine's pool) never queue behind them.
import { LimitError } from '../limits/index.js'
import { EngineError } from './errors.js'

export class SnapshotGate {
  private running = 0
  private readonly waiting: { resolve: () => void; reject: (error: Error) => void }[] = []
  private closed = false

  constructor(private readonly concurrent: number, private readonly queued: number) {}

  /** Resolves with the release of a turn; rejects at once with a LimitError when the queue is full. */
  async acquire(): Promise<() => void> {
    if (this.closed) throw new EngineError('database', 'the sync engine is closed')
    if (this.running < this.concurrent) {
      this.running++
    } else {
      if (this.waiting.length >= this.queued) {
        throw new LimitError('queuedSnapshots', this.queued, 'Too many snapshots (new shapes, subsets) are waiting for their turn; retry later', 429)
      }
      await new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }))
    }
    let released = false
    return () => {
      if (released) return
      released = true
      // The turn passes to the next in line (running stays the same) or ends.
      const next = this.waiting.shift()
      if (next) next.resolve()
      else this.running--
    }
  }

  get queueLength(): number {
    return this.waiting.length
  }

  close(): void {
    this.closed = true
    for (const waiter of this.waiting.splice(0)) waiter.reject(new EngineError('database', 'the sync engine is closed'))
  }
}
