// A materialized shape kept current (Phoenix.Sync's `Shape`, Electric's `Shape`): rows by key,
// listeners told after each up-to-date, must-refetch handled by starting over.
import type { SyncEvent } from './events.js'

export type LiveShapeListener<Row> = (rows: ReadonlyMap<string, Row>, events: SyncEvent<Row>[]) => void

export class LiveShape<Row> {
  private readonly state = new Map<string, Row>()
  private readonly listeners = new Set<LiveShapeListener<Row>>()
  private pending: SyncEvent<Row>[] = []
  private readonly controller = new AbortController()
  private upToDate = false
  /** Resolves at the first up-to-date: the rows then equal the shape's query. */
  readonly ready: Promise<void>
  /** Rejects if the stream fails for good (e.g. the shape is invalid). */
  readonly done: Promise<void>

  constructor(events: (signal: AbortSignal) => AsyncIterable<SyncEvent<Row>>) {
    let resolveReady!: () => void
    let rejectReady!: (e: unknown) => void
    this.ready = new Promise((resolve, reject) => { resolveReady = resolve; rejectReady = reject })
    this.ready.catch(() => {})
    this.done = (async () => {
      try {
        for await (const event of events(this.controller.signal)) {
          this.apply(event)
          if (event.type === 'up-to-date') {
            if (!this.upToDate) resolveReady()
            this.upToDate = true
          }
        }
      } catch (error) {
        if (!this.controller.signal.aborted) {
          rejectReady(error)
          throw error
        }
      }
    })()
    this.done.catch(() => {})
  }

  /** Current rows by key. */
  get rows(): ReadonlyMap<string, Row> {
    return this.state
  }

  toArray(): Row[] {
    return [...this.state.values()]
  }

  find(predicate: (row: Row) => boolean): Row | undefined {
    for (const row of this.state.values()) if (predicate(row)) return row
    return undefined
  }

  /** Called after each batch of changes that ends in up-to-date; returns an unsubscribe function. */
  subscribe(listener: LiveShapeListener<Row>): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close(): void {
    this.controller.abort()
    this.listeners.clear()
  }

  private apply(event: SyncEvent<Row>): void {
    switch (event.type) {
      case 'insert':
      case 'update':
        this.state.set(event.key, event.row)
        break
      case 'delete':
        this.state.delete(event.key)
        break
      case 'must-refetch':
        this.state.clear()
        this.upToDate = false
        break
      case 'up-to-date': {
        const events = this.pending
        this.pending = []
        for (const listener of this.listeners) listener(this.state, events)
        return
      }
      default:
        return
    }
    this.pending.push(event)
  }
}
