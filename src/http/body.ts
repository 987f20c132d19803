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

/** A body already cut into pieces (a snapshot chunk's text): one string when it is one piece, else streamed. */
export function fromPieces(pieces: Iterable<string>): string | AsyncGenerator<string> {
  const iterator = pieces[Symbol.iterator]()
  const first = iterator.next()
  if (first.done) return ''
  const second = iterator.next()
  if (second.done) return first.value
  return (async function* () {
    yield first.value
    yield second.value
    for (let step = iterator.next(); !step.done; step = iterator.next()) yield step.value
  })()
}

/** One SSE event per message: `data: <json>\n\n`. */
export function sseEvents(items: readonly string[]): string {
  let out = ''
  for (const item of items) out += `data: ${item}\n\n`
  return out
}
