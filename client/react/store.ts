// The external store behind `useLiveShape`: one per (procedure, input), opened by React's first
// subscribe (after commit, never during a server render) and closed a turn after its last unsubscribe,
// so StrictMode's unmount-remount keeps one subscription. Reopened later (a remount, a hidden
// <Activity> shown again), it resumes from where it stopped instead of fetching the rows again.
import type { LiveShape, ShapeSnapshot } from '../live-shape.js'

export interface LiveShapeState<Row> {
  /** The rows, in the order they arrived; the same array until they change. */
  rows: Row[]
  /** Whether the rows are the shape's (the first up-to-date was applied, or a snapshot was given). */
  isReady: boolean
  /** What ended the subscription, if it failed (e.g. a TRPCError from the shape function). */
  error: unknown
}

export class LiveShapeStore<Row> {
  private live: LiveShape<Row> | undefined
  private state: LiveShapeState<Row>
  private readonly serverState: LiveShapeState<Row>
  private readonly listeners = new Set<() => void>()
  private closeTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    /** Compares inputs by value: a store is reused while its key stays the same. */
    readonly key: string,
    private readonly open: (from: ShapeSnapshot<Row> | undefined) => LiveShape<Row>,
    private from: ShapeSnapshot<Row> | undefined,
  ) {
    this.state = from ? { rows: from.rows.map(([, row]) => row), isReady: true, error: undefined } : { rows: [], isReady: false, error: undefined }
    // What the server rendered: hydration must see the same.
    this.serverState = this.state
  }

  readonly getSnapshot = (): LiveShapeState<Row> => this.state

  readonly getServerSnapshot = (): LiveShapeState<Row> => this.serverState

  readonly subscribe = (onChange: () => void): (() => void) => {
    this.listeners.add(onChange)
    clearTimeout(this.closeTimer)
    this.start()
    return () => {
      this.listeners.delete(onChange)
      if (this.listeners.size === 0) this.closeTimer = setTimeout(() => this.stop(), 0)
    }
  }

  readonly awaitTxId = (txid: number, options?: { timeout?: number }): Promise<void> =>
    this.live ? this.live.awaitTxId(txid, options) : Promise.reject(new Error('useLiveShape: awaitTxId needs a mounted component (the subscription opens after the first render)'))

  private start(): void {
    if (this.live) return
    const live = (this.live = this.open(this.from))
    live.subscribe(() => this.set({ rows: live.toArray(), isReady: true, error: undefined }))
    // Listeners hear of changed rows only: an empty shape becomes ready without one.
    live.ready.then(() => {
      if (this.live === live && !this.state.isReady) this.set({ rows: live.toArray(), isReady: true, error: undefined })
    }, () => {})
    live.done.catch((error: unknown) => {
      if (this.live === live) this.set({ ...this.state, error })
    })
  }

  private stop(): void {
    if (!this.live) return
    // A later start resumes from here (or starts over if the rows were not current).
    this.from = this.live.snapshot()
    this.live.close()
    this.live = undefined
  }

  private set(state: LiveShapeState<Row>): void {
    this.state = state
    for (const listener of this.listeners) listener()
  }
}
