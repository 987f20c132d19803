// Where a shape log's chunks end, by Electric's rule (LogChunker.fit_into_chunk): entries are added to
// the open chunk, and the entry that brings its byte count to the threshold or past it is the chunk's
// last; the next entry opens a new one. Bytes are those of the JSON text a client receives (UTF-8), so a
// response is one chunk of about the threshold, never an estimate of it. An optional entry cap closes a
// chunk early (the engine's `readLimit`), still at a fixed position in the log.

/** A snapshot row counts one byte more than its JSON: the line break Electric stores it with. */
export const snapshotRowBytes = (json: string): number => Buffer.byteLength(json) + 1

export class Chunker {
  private bytes = 0
  private entries = 0

  constructor(private readonly threshold: number, private readonly maxEntries = Infinity) {}

  /** Adds an entry of `size` bytes to the open chunk; true when the entry ends that chunk. */
  add(size: number): boolean {
    this.bytes += size
    this.entries++
    if (this.bytes < this.threshold && this.entries < this.maxEntries) return false
    this.bytes = 0
    this.entries = 0
    return true
  }
}
