// Response bodies streamed in bounded pieces, as Electric's encoder does (at most 500 items or 256 KiB per
// write), so a large snapshot chunk is never copied into one string per reader.

const maxItems = 500
const maxBytes = 256 * 1024

/** A JSON array of already-encoded items. */
export async function* jsonArray(items: readonly string[]): AsyncGenerator<string> {
  if (items.length === 0) {
    yield '[]'
    return
  }
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
