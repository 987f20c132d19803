// A snapshot chunk kept compact: the JSON array text of its messages, once, as HTTP sends it, with the
// end position of each message in it. The messages are parsed again only when a reader needs objects
// (tRPC, sync.stream, live views), for that read alone. Kept whole as message objects, a snapshot row
// costs several times its JSON on the heap for the shape's life; this way it costs its JSON text
// (one byte per character for Latin-1 text) and four bytes.
import type { Message } from '../source/messages.js'

export class SnapshotChunk {
  /** `[m1,m2,...]`: one flat string. */
  private readonly text: string
  /** Index in `text` just past each message. */
  private readonly ends: Uint32Array
  /** Heap the chunk holds: the text (two bytes a character when it is not all Latin-1) and the positions. */
  readonly heapBytes: number

  /** `ascii`: the caller knows every message is ASCII (its UTF-8 bytes equal its length), which spares a scan. */
  constructor(encoded: readonly string[], ascii = false) {
    this.text = `[${encoded.join(',')}]`
    this.ends = new Uint32Array(encoded.length)
    let at = 1
    for (let i = 0; i < encoded.length; i++) {
      at += encoded[i]!.length
      this.ends[i] = at
      at += 1
    }
    this.heapBytes = this.text.length * (ascii || isOneByte(this.text) ? 1 : 2) + this.ends.byteLength + chunkOverhead
  }

  get count(): number {
    return this.ends.length
  }

  /** JSON text of each message (slices of the chunk's text, not copies). */
  encoded(): string[] {
    const out = new Array<string>(this.ends.length)
    let start = 1
    for (let i = 0; i < this.ends.length; i++) {
      out[i] = this.text.slice(start, this.ends[i]!)
      start = this.ends[i]! + 1
    }
    return out
  }

  /**
   * The chunk as a JSON array, with `extra` (JSON texts of more messages) appended, in pieces of about
   * `pieceChars` cut between messages (never inside one, so no piece splits a surrogate pair): slices of
   * the chunk's text, sent as they are.
   */
  *arrayPieces(extra: readonly string[] = [], pieceChars = 256 * 1024): Generator<string> {
    const ends = this.ends
    const last = ends.length - 1
    let start = 0
    let i = 0
    while (i <= last) {
      // The first message ending at or past start + pieceChars closes the piece (binary search).
      let lo = i
      let hi = last
      const target = start + pieceChars
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (ends[mid]! < target) lo = mid + 1
        else hi = mid
      }
      i = lo + 1
      // The last piece leaves off the closing bracket when there is more to append.
      const end = i > last ? (extra.length ? ends[last]! : ends[last]! + 1) : ends[lo]!
      yield this.text.slice(start, end)
      start = end
    }
    if (ends.length === 0 && !extra.length) yield '[]'
    else if (extra.length) yield `${ends.length === 0 ? '[' : ','}${extra.join(',')}]`
  }

  /** The messages, parsed for this read. */
  messages(): Message[] {
    return JSON.parse(this.text) as Message[]
  }

  /** The messages one at a time, each parsed when it is taken (a large chunk never blocks in one parse). */
  *each(): Generator<Message> {
    let start = 1
    for (let i = 0; i < this.ends.length; i++) {
      yield JSON.parse(this.text.slice(start, this.ends[i]!)) as Message
      start = this.ends[i]! + 1
    }
  }
}

/** The chunk object, its string and array headers. */
const chunkOverhead = 200

// Latin-1 text is stored one byte a character; anything beyond it makes V8 keep the string two-byte.
const isOneByte = (text: string): boolean => !/[^\u0000-\u00ff]/.test(text)
