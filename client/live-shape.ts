// `liveShape(trpc.todos.sync, input)`: the rows of a shape subscription, kept current. Changes are
// applied a batch at a time, at each up-to-date, so `rows` and listeners only ever see states the
// database had (a transaction's changes arrive before the up-to-date that follows them). Reconnects
// are the tRPC client's: it resubscribes from the last tracked event, so nothing is missed or repeated;
// a must-refetch replaces the rows with the next snapshot. With `initial` (a server-rendered snapshot)
// it starts from those rows and subscribes from the snapshot's position.
import type { ChangeEvent, SyncEvent, TrackedEvent } from './events.js'
import { clientTransformer } from './transformer.js'
import { TxidTracker, type SnapshotBounds } from './txid.js'
import { sendBatch, type BatchProcedure, type RetryOptions } from './writes.js'

export { TxidTimeoutError } from './txid.js'

/** A subscription procedure of the client proxy, such as `trpc.todos.sync`. */
export interface ShapeProcedure<TInput, Row> {
  subscribe(input: TInput, opts: { signal?: AbortSignal }): AsyncIterable<TrackedEvent<Row>>
}

export type LiveShapeListener<Row> = (rows: ReadonlyMap<string, Row>, changes: ChangeEvent<Row>[]) => void

/** A shape's rows at one position of its log: what the server's `prefetch` returns, `initial` takes. */
export interface ShapeSnapshot<Row> {
  /** Rows by key, in the order the subscription delivered them. */
  rows: [key: string, row: Row][]
  /** The id of the up-to-date event the rows are current at: the subscription resumes after it. */
  lastEventId: string
  /** The initial snapshot's bounds (`pg_current_snapshot()`), for `awaitTxId`; null if the source sent none. */
  bounds: SnapshotBounds | null
  /** Txids of the changes applied after the initial snapshot, for `awaitTxId`. */
  txids: number[]
}

/** Reads the text of the server's `serializeSnapshot` (superjson, so Dates and Decimals come back). */
export function parseSnapshot<Row>(text: string, transformer: { deserialize(payload: unknown): unknown } = clientTransformer): ShapeSnapshot<Row> {
  return transformer.deserialize(JSON.parse(text)) as ShapeSnapshot<Row>
}

/** The key `get` looks rows up by when no `getKey` is given: the row's `id` field, if it has one. */
export type DefaultRowKey<Row> = Row extends { id: infer I } ? I : never

export interface LiveShapeOptions<Row = unknown, K = DefaultRowKey<Row>> {
  /**
   * The key `get(key)` finds a row by (TanStack DB's `getKey`): default `row.id`. For a composite primary
   * key return one value of its parts, e.g. ``(m) => `${m.projectId}:${m.userId}` ``.
   */
  getKey?: (row: Row) => K
  /** How many recent txids to remember for `awaitTxId` (default 10,000). */
  txidMemory?: number
  /**
   * Start from this snapshot (the server's `prefetch` of the same procedure and input): its rows are
   * there at once, `ready` is resolved, and the subscription resumes from its `lastEventId`.
   */
  initial?: ShapeSnapshot<Row> | undefined
  /**
   * Called when a listener throws. The other listeners are still called and the subscription goes on
   * (one broken consumer must not stop the rest). Default: `console.error`.
   */
  onListenerError?: (error: unknown) => void
}

export class LiveShape<Row, K = DefaultRowKey<Row>> {
  private readonly state = new Map<string, Row>()
  /** Electric key of each row by its `getKey` key. */
  private readonly byKey = new Map<K, string>()
  private readonly getKey: (row: Row) => K
  private readonly listeners = new Set<LiveShapeListener<Row>>()
  private readonly controller = new AbortController()
  /** Events since the last up-to-date, applied together at the next one. */
  private batch: ChangeEvent<Row>[] = []
  private resetAtNextUpToDate = false
  private pendingBounds: SnapshotBounds | undefined
  /** What `rows` contain by txid: committed changes' txids and the last snapshot's bounds. */
  private readonly txids: TxidTracker
  private readonly onListenerError: (error: unknown) => void
  private upToDate = false
  private failure: unknown
  private lastId: string | undefined
  /** Id of the last up-to-date applied: where `rows` are current. */
  private committedId: string | undefined
  /** Resolves at the first up-to-date: `rows` then equal the shape's query. Rejects if the subscription fails first. */
  readonly ready: Promise<void>
  /** Settles when the subscription ends: closed, stopped by the server, or failed (rejects). */
  readonly done: Promise<void>

  constructor(events: (signal: AbortSignal) => AsyncIterable<TrackedEvent<Row>>, options: LiveShapeOptions<Row, K> = {}) {
    const txids = (this.txids = new TxidTracker(options.txidMemory))
    this.getKey = options.getKey ?? ((row) => (row as { id?: K }).id as K)
    this.onListenerError = options.onListenerError ?? ((error) => console.error('liveShape: a listener threw', error))
    let resolveReady!: () => void
    let rejectReady!: (error: unknown) => void
    this.ready = new Promise((resolve, reject) => { resolveReady = resolve; rejectReady = reject })
    this.ready.catch(() => {})
    if (options.initial) {
      const { rows, lastEventId, bounds } = options.initial
      for (const [key, row] of rows) this.put(key, row)
      txids.record(options.initial.txids, bounds ?? undefined)
      this.lastId = this.committedId = lastEventId
      this.upToDate = true
      resolveReady()
    }
    this.done = (async () => {
      try {
        for await (const { id, data } of events(this.controller.signal)) {
          this.lastId = id
          if (this.apply(data)) {
            this.committedId = id
            resolveReady()
          }
        }
        if (!this.upToDate) rejectReady(new Error('the subscription ended before its first up-to-date'))
      } catch (error) {
        if (this.controller.signal.aborted) return
        this.failure = error
        rejectReady(error)
        txids.fail(error)
        throw error
      }
    })()
    this.done.catch(() => {})
  }

  /**
   * Current rows by Electric's key (`"public"."todos"/"<id>"`, the `key` of change events). To look a
   * row up by its primary key use `get(id)`.
   */
  get rows(): ReadonlyMap<string, Row> {
    return this.state
  }

  /** The row whose key (`getKey(row)`, default `row.id`) is `key`, or undefined. */
  get(key: K): Row | undefined {
    const electricKey = this.byKey.get(key)
    return electricKey === undefined ? undefined : this.state.get(electricKey)
  }

  toArray(): Row[] {
    return [...this.state.values()]
  }

  find(predicate: (row: Row) => boolean): Row | undefined {
    for (const row of this.state.values()) if (predicate(row)) return row
    return undefined
  }

  /** Whether the rows are current as of the last up-to-date (false before the first one and after a must-refetch). */
  get isUpToDate(): boolean {
    return this.upToDate
  }

  /** The error that ended the subscription, if one did. */
  get error(): unknown {
    return this.failure
  }

  /** Id of the last event received (what the client resumes from). */
  get lastEventId(): string | undefined {
    return this.lastId
  }

  /**
   * The current rows and the position they are current at, to start another live shape from (e.g.
   * after a remount); undefined until up to date. Changes received after the last up-to-date are not
   * in it: a live shape started from it receives them again.
   */
  snapshot(): ShapeSnapshot<Row> | undefined {
    if (!this.upToDate || this.committedId === undefined) return undefined
    return { rows: [...this.state], lastEventId: this.committedId, bounds: this.txids.snapshotBounds ?? null, txids: this.txids.txids }
  }

  /**
   * Called after each batch of changes that ends in up-to-date and changed the rows (not for an idle
   * up-to-date, nor for the first one of an empty shape: await `ready` for that); returns an unsubscribe function.
   */
  subscribe(listener: LiveShapeListener<Row>): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Resolves once `txid` (from a mutation's `{ txid }`) is reflected in `rows`: a change with it was
   * applied, or the current snapshot already contains it. Rejects with TxidTimeoutError after
   * `timeout` ms (default 10 s) — e.g. when the transaction touched no row of this shape.
   */
  async awaitTxId(txid: number, { timeout = 10_000 }: { timeout?: number } = {}): Promise<void> {
    if (this.failure) throw this.failure
    // While a refetch is pending, `rows` are about to be replaced: wait for the next up-to-date.
    await this.txids.wait(txid, timeout, this.upToDate)
  }

  /**
   * Sends a write batch through `procedure` (such as `trpc.todos.mutate`) with an id, again if its answer
   * is lost, and resolves with `{ txid }` once that txid is in `rows`. Rejects with BatchRejectedError
   * (the server's code and reason), TxidTimeoutError, or BatchOutcomeUnknownError (see writes.ts).
   */
  async write<B>(procedure: BatchProcedure<B>, batch: B, options: RetryOptions & { timeout?: number } = {}): Promise<{ txid: number }> {
    const { txid } = await sendBatch(procedure, batch, options)
    await this.awaitTxId(txid, { timeout: options.timeout })
    return { txid }
  }

  /** Stops the subscription; pending `awaitTxId` calls reject. */
  close(): void {
    if (this.controller.signal.aborted) return
    this.controller.abort()
    this.listeners.clear()
    this.txids.fail(new Error('live shape closed'))
  }

  /** Applies one event; true when it completed a batch (up-to-date). */
  private apply(event: SyncEvent<Row>): boolean {
    switch (event.type) {
      case 'insert':
      case 'update':
      case 'delete':
        this.batch.push(event)
        if (!event.upToDate) return false
        this.commit()
        return true
      case 'must-refetch':
        this.batch = []
        this.pendingBounds = undefined
        this.resetAtNextUpToDate = true
        this.upToDate = false
        return false
      case 'snapshot-end':
        this.pendingBounds = { xmin: event.xmin, xmax: event.xmax, xip: event.xip }
        return false
      case 'up-to-date':
        this.commit()
        return true
    }
  }

  private commit(): void {
    const reset = this.resetAtNextUpToDate && this.state.size > 0
    if (this.resetAtNextUpToDate) {
      this.state.clear()
      this.byKey.clear()
    }
    this.resetAtNextUpToDate = false
    const bounds = this.pendingBounds
    this.pendingBounds = undefined
    const changes = this.batch
    this.batch = []
    for (const change of changes) {
      if (change.type === 'delete') this.remove(change.key)
      else this.put(change.key, change.row)
    }
    this.upToDate = true
    this.txids.record(changes.flatMap((change) => change.txids), bounds)
    if (changes.length === 0 && !reset) return // an idle turn of the stream: nothing to tell
    for (const listener of [...this.listeners]) {
      try {
        listener(this.state, changes)
      } catch (error) {
        this.onListenerError(error)
      }
    }
  }

  private put(electricKey: string, row: Row): void {
    const previous = this.state.get(electricKey)
    if (previous !== undefined) this.byKey.delete(this.getKey(previous))
    this.state.set(electricKey, row)
    this.byKey.set(this.getKey(row), electricKey)
  }

  private remove(electricKey: string): void {
    const previous = this.state.get(electricKey)
    if (previous === undefined) return
    this.byKey.delete(this.getKey(previous))
    this.state.delete(electricKey)
  }
}

/**
 * The live rows of a shape subscription procedure: `liveShape(trpc.todos.sync, { where })`.
 * Row types come from the procedure (the Prisma model, narrowed by the server's `select`).
 */
export function liveShape<TInput, Row, K = DefaultRowKey<Row>>(
  procedure: ShapeProcedure<TInput, Row>, input: TInput, options?: LiveShapeOptions<NoInfer<Row>, K>,
): LiveShape<Row, K> {
  const from = options?.initial ? withLastEventId(input, options.initial.lastEventId) : input
  return new LiveShape<Row, K>((signal) => procedure.subscribe(from, { signal }), options)
}

/** The input with `lastEventId`, where tRPC itself puts it when it resubscribes. */
function withLastEventId<TInput>(input: TInput, lastEventId: string): TInput {
  if (input != null && (typeof input !== 'object' || Array.isArray(input))) {
    throw new TypeError('liveShape: resuming from a snapshot needs an object input (or none) to carry lastEventId')
  }
  return { ...input, lastEventId } as TInput
}
