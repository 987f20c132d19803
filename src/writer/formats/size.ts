// The size of a batch as JSON text, counted on the value the transport already decoded and given up as
// soon as it passes the limit: an oversized batch costs at most `max` bytes of walking, whatever its
// size or shape (shared subtrees, as superjson's references make them, count each time they appear;
// a cycle simply runs into the limit).

/** Whether `value`'s JSON text is longer than `max` bytes (UTF-8); stops counting once it is. */
export function jsonLongerThan(value: unknown, max: number): boolean {
  let bytes = 0
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v === 'string') bytes += utf8Length(v) + 2
    else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') bytes += String(v).length
    else if (v === null || v === undefined) bytes += 4
    else if (Array.isArray(v)) {
      bytes += 1 + v.length // brackets and commas
      if (bytes > max) return true
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i])
    } else if (typeof v === 'object') {
      if (v instanceof Date) {
        bytes += 26
        continue
      }
      bytes += 1
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue
        bytes += utf8Length(key) + 4 // quotes, colon, comma
        stack.push((v as Record<string, unknown>)[key])
        if (bytes > max) break
      }
    }
    if (bytes > max) return true
  }
  return false
}

/** UTF-8 length without encoding: 1 byte per ASCII char, up to 3 per UTF-16 unit (a surrogate pair is 4). */
function utf8Length(s: string): number {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1
  }
  return n
}
