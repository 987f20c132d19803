// Response bodies streamed in bounded pieces, as Electric's encoder does (at most 500 items or 256 KiB per
// write), so a large snapshot chunk is never copied into one string per reader.

const maxItems = 500
const maxBytes = 256 * 1024

/** A JSON array of already-encoded items: one string when it fits in one piece, else streamed pieces. */
export function jsonArray(items: readonly string[]): string | AsyncGenerator<string> {
  if (items.length <= maxItems) {
    let size = 2
    for (const item of items) size += item.length + 1
    if (size < maxBytes) return `[${items.join(',')}]`
  }
  return jsonPieces(items)
}

async function* jsonPieces(items: readonly string[]): AsyncGenerator<string> {
  let piece = '['
  let count = 0
  for (let i = 0; i < items.length; i++) {
    piece += i === 0 ? items[i] : `,${items[i]}`
    if (++count >= maxItems || piece.length >= maxBytes) {
      yield piece
      piece = ''
      count = 0
    }
  }
  yield `${piece}]`
}

/** One SSE event per message: `data: <json>\n\n`. */
export function sseEvents(items: readonly string[]): string {
  let out = ''
  for (const item of items) out += `data: ${item}\n\n`
  return out
}
