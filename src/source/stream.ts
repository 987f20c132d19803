// Reads a shape from any ShapeSource as one stream of messages, following offsets and handles the way
// Electric's ShapeStream does: initial snapshot, up-to-date, then live; must-refetch restarts from -1.
import type { ShapeDefinition } from '../shape/definition.js'
import type { Message } from './messages.js'
import { Backoff, classifyError, type RetryBound } from './errors.js'
import type { ShapeSource } from './source.js'
import { abortedFlag } from './abort-flag.js'
import { heldTooLong, nextTurn } from './turn-budget.js'

/** Electric's offset of the end of the initial snapshot: reading after it reads the log from its start. */
const SNAPSHOT_END_OFFSET = '0_inf'

export interface StreamOptions {
  /** Keep following changes after the first up-to-date (default true). */
  live?: boolean
  /** Resume point: both or neither. */
  offset?: string
  handle?: string
  /** Only changes after now (`log=changes_only`; still sends snapshot-end). */
  changesOnly?: boolean
  signal?: AbortSignal
  /** How long an unreachable source is retried before the stream fails with its error. */
  retry?: RetryBound
  /**
   * Readers with the same group (one connection's) take turns with other groups when the event loop is
   * busy (turn-budget.ts); default: one group for every reader without one.
   */
  turnGroup?: object
}

export interface StreamItem {
  message: Message
  /** Handle of the log the message came from. */
  handle: string
  /**
   * Where to resume to receive what follows this message. Exact for replicated changes and control
   * messages (`0_inf` for snapshot-end); for rows of the initial snapshot it is the start of their chunk
   * (re-reading a chunk repeats rows the reader already has, which materialized readers apply
   * idempotently by key).
   */
  offset: string
}

export async function* streamShape(
  source: ShapeSource, definition: ShapeDefinition, options: StreamOptions = {},
): AsyncGenerator<StreamItem> {
  const aborted = abortedFlag(options.signal)
  for await (const batch of streamShapeBatches(source, definition, options)) {
    for (const item of batch) {
      // The reader's work on each message runs between these checks (see below).
      while (heldTooLong()) await nextTurn(options.turnGroup)
      if (aborted()) return
      yield item
    }
  }
}

/**
 * `streamShape` a batch at a time: the messages of one response, cut where the turn has run long (the
 * batch so far is handed on before waiting). Readers that deliver many messages (tRPC subscriptions)
 * take them so, paying one async step per batch instead of one per message.
 */
export async function* streamShapeBatches(
  source: ShapeSource, definition: ShapeDefinition, options: StreamOptions = {},
): AsyncGenerator<StreamItem[]> {
  const live = options.live ?? true
  let offset = options.offset ?? '-1'
  let handle = options.offset && options.offset !== '-1' ? options.handle : undefined
  let isLive = false
  const signal = options.signal
  const aborted = abortedFlag(signal)
  const backoff = new Backoff(options.retry)
  let refetches = 0
  while (!aborted()) {
    let result
    try {
      result = await source.fetch(definition, { offset, handle, live: isLive, signal, changesOnly: options.changesOnly ?? false, turnGroup: options.turnGroup })
      backoff.reset()
    } catch (error) {
      // Aborted (the reader stopped, or the source is closing under it): the stream ends. Only an
      // unreachable source (a restarting database) is retried, with backoff and a bound; a bad shape or
      // offset, or an internal fault, is final (see errors.ts).
      if (aborted()) return
      const delay = classifyError(error) === 'unavailable' ? backoff.next() : undefined
      if (delay === undefined) throw error
      await new Promise((r) => setTimeout(r, delay))
      continue
    }
    if (aborted()) return
    if (result.status === 'must-refetch') {
      // Back-to-back refetches (a table dropped and not yet recreated) back off as Electric's client does.
      if (refetches++ > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** refetches, 5000)))
      if (aborted()) return
      yield [{ message: { headers: { control: 'must-refetch' } }, handle: result.handle, offset: '-1' }]
      offset = '-1'
      handle = result.handle
      isLive = false
      continue
    }
    refetches = 0
    const requested = offset
    let batch: StreamItem[] = []
    for (const message of result.eachMessage?.() ?? result.messages) {
      const headers = message.headers as { lsn?: string; op_position?: number; control?: string }
      // snapshot-end can be followed by log entries in the same response: its own position is the
      // snapshot's end (`0_inf`), not the response's, which is past those entries.
      const at = headers.lsn !== undefined ? `${headers.lsn}_${headers.op_position ?? 0}`
        : headers.control === 'snapshot-end' ? SNAPSHOT_END_OFFSET
        : headers.control ? result.offset : requested
      // Before each message, not after: readers woken together by one commit each give way before doing
      // any work once the turn is long, so hundreds of them cannot add up to a stall.
      if (heldTooLong()) {
        if (batch.length > 0) yield batch
        batch = []
        while (heldTooLong()) await nextTurn(options.turnGroup)
      }
      if (aborted()) return
      batch.push({ message, handle: result.handle, offset: at })
    }
    if (batch.length > 0) yield batch
    if (aborted()) return
    handle = result.handle
    offset = result.offset
    if (result.upToDate) {
      if (!live) return
      isLive = true
    }
  }
}
