// One shape's log: the initial snapshot in chunks, then the changes that touched the shape, in commit
// order. Shared by every reader of the shape definition; readers are offsets into it.
// Responses are cut at chunk boundaries fixed in the log, by the JSON bytes each entry sends (Electric's
// rule, ./chunker.ts), so every reader at one offset gets the same response, ending where Electric's would.
// Snapshot chunks are kept compact (./snapshot-chunk.ts); the log's heap is counted in `heapBytes` and
// reported to the engine's byte budget as it changes.
import type { ShapeDefinition } from '../shape/definition.js'
import type { ChangeMessage, Message, SnapshotBounds, Value } from '../source/messages.js'
import { compareOffsets, type LogOffset } from './offset.js'
import { electricSchema, type TableInfo } from './catalog.js'
import { Chunker, snapshotRowBytes } from './chunker.js'
import { SnapshotChunk } from './snapshot-chunk.js'
import type { TextRow } from './transaction.js'
// The client's epoch rule for 32-bit xids (browser-safe code, shared with awaitTxId).
import { widen } from '../../client/txid.js'

export class LogEntry {
  private encoded: string | undefined
  constructor(readonly offset: LogOffset, readonly message: Message) {}
  /** JSON text of the message, encoded once for every reader. */
  get json(): string {
    return (this.encoded ??= JSON.stringify(this.message))
  }
}

/**
 * Heap of one log entry: its message object (key, value and headers objects, one string per value) and
 * its JSON text, estimated from the JSON's length (measured on Node 20: about 2.5x the JSON plus a
 * constant; counted high, so the budget errs on the safe side).
 */
export const entryHeapBytes = (jsonLength: number): number => 3 * jsonLength + 400

/** Why a log stopped accepting readers: its readers must refetch from a new handle. */
export type RotationReason =
  | 'truncate' | 'schema-change' | 'replica-identity' | 'retention' | 'deleted' | 'closed' | 'error'
  /** Dropped for memory (the engine's byte budget, or its shape count): the coldest shapes go first. */
  | 'evicted'

export interface ReadResult {
  /** How many messages the read returned. */
  count: number
  /** The messages (parsed for this read when they come from a snapshot chunk). */
  messages(): Message[]
  /** JSON text of each message, shared by every reader. */
  encoded(): string[]
  /** The messages one at a time (a snapshot chunk's parsed as they are taken). */
  each(): Iterable<Message>
  /** A snapshot chunk's read: the JSON array text of its messages and `extra`, in slices of the chunk's text. */
  arrayPieces?(extra: readonly string[]): Iterable<string>
  /** Next offset for the reader. */
  offset: LogOffset
  /** The read reached the end of the log (after the snapshot). */
  upToDate: boolean
}

export class ShapeLog {
  readonly relation: [string, string]
  /** Snapshot chunks; chunk i is served at offset `0_i`; the last one ends with `snapshot-end`. */
  private chunks: SnapshotChunk[] = []
  private entries: LogEntry[] = []
  /** Indexes in `entries` of the last entry of each closed log chunk, ascending. */
  private chunkEnds: number[] = []
  /** Cuts the log into chunks. */
  private logChunker: Chunker
  private waiters = new Set<() => void>()
  bounds: SnapshotBounds | undefined
  private visibility: { xmin: bigint; xmax: bigint; xip: Set<bigint> } | undefined
  private pastSnapshot = false
  rotated: RotationReason | undefined
  /** Changes routed here while the snapshot runs, applied or dropped once its bounds are known. */
  pending: { xid: number; apply(): void }[] | undefined = []
  private schemaCache: Record<string, Record<string, unknown>> | undefined
  lastUsed = Date.now()
  activeReaders = 0
  /** Heap held by the snapshot chunks and log entries (estimated, see entryHeapBytes). */
  heapBytes = 0
  /** This shape's messages of the transaction being routed (a scratch list the router fills). */
  txMessages: { op: number; message: ChangeMessage }[] = []

  constructor(
    readonly handle: string,
    readonly definition: ShapeDefinition & { changesOnly?: boolean },
    readonly table: TableInfo,
    /** Selected columns, in table order. */
    readonly columns: string[],
    private readonly options: {
      chunkBytes: number; maxEntries: number; chunkEntries?: number
      /** Called with the change of `heapBytes` each time it changes (for the engine's byte budget). */
      onHeapBytes?: (log: ShapeLog, delta: number) => void
    },
  ) {
    this.relation = [table.namespace, table.table]
    this.logChunker = new Chunker(options.chunkBytes, options.chunkEntries)
  }

  /** `electric-schema` of the selected columns. */
  get schema(): Record<string, Record<string, unknown>> {
    return (this.schemaCache ??= electricSchema(this.table, this.columns))
  }

  get ready(): boolean {
    return this.pending === undefined
  }

  get entryCount(): number {
    return this.entries.length
  }

  /** The last chunk of the snapshot: offsets at or after it are in the log. */
  get snapshotEnd(): LogOffset {
    return { tx: 0n, op: Math.max(0, this.chunks.length - 1) }
  }

  get latestOffset(): LogOffset {
    return this.entries.at(-1)?.offset ?? this.snapshotEnd
  }

  /** Builds the snapshot chunks from the rows' message texts (./snapshot-json.ts) and the snapshot's bounds. */
  loadSnapshot(rows: AsyncIterable<string[]> | string[][], bounds: SnapshotBounds): Promise<void> {
    return (async () => {
      // Electric's snapshot rule: a row's JSON bytes plus one (its line break in Electric's storage).
      const chunker = new Chunker(this.options.chunkBytes)
      let chunk: string[] = []
      // Whether the open chunk is all ASCII so far: its UTF-8 bytes (counted anyway) equal its length.
      let ascii = true
      for await (const batch of rows) {
        if (this.rotated) return // evicted or dropped while the snapshot runs: keep nothing
        for (const json of batch) {
          chunk.push(json)
          const bytes = snapshotRowBytes(json)
          ascii &&= bytes === json.length + 1
          if (chunker.add(bytes)) {
            this.addChunk(chunk, ascii)
            chunk = []
            ascii = true
          }
        }
      }
      chunk.push(JSON.stringify({ headers: { control: 'snapshot-end', ...bounds } }))
      this.addChunk(chunk, ascii)
      this.bounds = bounds
      this.visibility = { xmin: BigInt(bounds.xmin), xmax: BigInt(bounds.xmax), xip: new Set(bounds.xip_list.map(BigInt)) }
    })()
  }

  private addChunk(encoded: string[], ascii: boolean): void {
    const chunk = new SnapshotChunk(encoded, ascii)
    this.chunks.push(chunk)
    this.charge(chunk.heapBytes)
  }

  private charge(delta: number): void {
    this.heapBytes += delta
    this.options.onHeapBytes?.(this, delta)
  }

  /** Applies the changes held back during the snapshot, skipping transactions the snapshot already saw. */
  finishSnapshot(): void {
    const pending = this.pending ?? []
    this.pending = undefined
    for (const held of pending) if (!this.seenBySnapshot(held.xid)) held.apply()
    this.notify()
  }

  /**
   * Whether a replicated transaction's changes are already in the snapshot. Replication can lag behind
   * the snapshot, so this is asked of every transaction until the first one that began after the
   * snapshot (xid >= xmax): everything decoded after it committed after the snapshot too.
   */
  seenBySnapshot(xid: number): boolean {
    const visibility = this.visibility
    if (!visibility || this.pastSnapshot) return false
    const full = widen(xid, visibility.xmax)
    if (full >= visibility.xmax) {
      this.pastSnapshot = true
      return false
    }
    return full < visibility.xmin || !visibility.xip.has(full)
  }

  /** Appends one transaction's messages for this shape; `last` marks its final one. */
  append(messages: { op: number; message: ChangeMessage }[], lsn: bigint): void {
    if (messages.length === 0) return
    messages.at(-1)!.message.headers.last = true
    let added = 0
    for (const { op, message } of messages) {
      const entry = new LogEntry({ tx: lsn, op }, message)
      this.entries.push(entry)
      const json = entry.json
      added += entryHeapBytes(json.length)
      if (this.logChunker.add(Buffer.byteLength(json))) this.chunkEnds.push(this.entries.length - 1)
    }
    this.charge(added)
    this.notify()
  }

  /** Entries after `after`, up to the end of the chunk they start in. */
  read(after: LogOffset): ReadResult {
    this.lastUsed = Date.now()
    if (after.tx < 0n || (after.tx === 0n && after.op < this.snapshotEnd.op)) {
      const index = after.tx < 0n ? 0 : after.op + 1
      // A chunk is a response of its own, so each is about chunkBytes and the same for every reader. The
      // last one is up-to-date when the log is still empty; Electric never ends the response to
      // `offset=-1` with up-to-date, so it can be cached long.
      const isLast = index === this.chunks.length - 1
      const chunk = this.chunks[index]!
      return {
        count: chunk.count, messages: () => chunk.messages(), encoded: () => chunk.encoded(), each: () => chunk.each(),
        arrayPieces: (extra) => chunk.arrayPieces(extra),
        offset: { tx: 0n, op: index }, upToDate: isLast && after.tx >= 0n && this.entries.length === 0,
      }
    }
    return this.readLog(after)
  }

  private readLog(after: LogOffset): ReadResult {
    const start = this.firstAfter(after)
    const slice = this.entries.slice(start, this.chunkEndAfter(start) + 1)
    const upToDate = start + slice.length >= this.entries.length
    const last = slice.at(-1)?.offset
    const latest = this.latestOffset
    return {
      count: slice.length,
      messages: () => slice.map((e) => e.message),
      each: () => slice.map((e) => e.message),
      encoded: () => slice.map((e) => e.json),
      offset: last ?? (compareOffsets(after, latest) > 0 ? after : latest),
      upToDate,
    }
  }

  /** Index of the last entry of the chunk holding entry `start` (the last entry when that chunk is open). */
  private chunkEndAfter(start: number): number {
    const ends = this.chunkEnds
    let lo = 0
    let hi = ends.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (ends[mid]! < start) lo = mid + 1
      else hi = mid
    }
    return lo < ends.length ? ends[lo]! : this.entries.length - 1
  }

  /** Whether there is anything after `after` (for live requests). */
  hasDataAfter(after: LogOffset): boolean {
    return this.firstAfter(after) < this.entries.length
  }

  private firstAfter(after: LogOffset): number {
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareOffsets(this.entries[mid]!.offset, after) <= 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Resolves when the log changes (new entries or rotation), on timeout or abort. */
  waitForChange(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    // An 'abort' listener added after the abort never fires: the reader would wait out the timeout.
    if (signal?.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.waiters.delete(done)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      this.waiters.add(done)
      signal?.addEventListener('abort', done, { once: true })
    })
  }

  rotate(reason: RotationReason): void {
    if (this.rotated) return
    this.rotated = reason
    this.chunks = []
    this.entries = []
    this.chunkEnds = []
    this.charge(-this.heapBytes)
    this.notify()
  }

  get overRetention(): boolean {
    return this.entries.length > this.options.maxEntries
  }

  private notify(): void {
    if (this.waiters.size === 0) return
    for (const waiter of [...this.waiters]) waiter()
  }

  /** The selected columns of a row. */
  project(row: TextRow): Value {
    const value: Value = {}
    for (const column of this.columns) value[column] = row[column] ?? null
    return value
  }

  /** Electric's key: `"schema"."table"/"pk1"/"pk2"`, `/` doubled inside values, NULL as `_`. */
  keyOf(row: TextRow): string {
    let key = `"${this.relation[0]}"."${this.relation[1]}"`
    for (const column of this.table.primaryKey) {
      const value = row[column]
      key += value == null ? '/_' : `/"${value.replaceAll('/', '//')}"`
    }
    return key
  }
}
