// What a LIKE pattern requires of every text it matches, for the filter index. The pattern is read as
// `like()` (text.ts) reads it: backslash escapes the next code unit, `%` matches any run, `_` one
// character, everything else one code unit exactly. A run of literal code units between wildcards must
// occur, contiguous, in every match; a leading run must start it and a trailing run must end it. So the
// requirement returned is necessary, never sufficient: the index narrows, the evaluator decides.

export type LikeRequirement =
  | { readonly kind: 'prefix'; readonly literal: string }
  | { readonly kind: 'suffix'; readonly literal: string }
  | { readonly kind: 'contains'; readonly literal: string }

/**
 * The most selective thing every match of `pattern` must have: its leading literal run, else its trailing
 * one, else its longest. Undefined when it has no literal at all (`%`, `_%`), and for a pattern ending in a
 * lone escape, which raises depending on the text (such a shape stays with the evaluated ones).
 */
export function likeRequirement(pattern: string): LikeRequirement | undefined {
  const runs: string[] = []
  let run = ''
  let endsLiteral = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '%' || c === '_') {
      if (run) runs.push(run)
      run = ''
      endsLiteral = false
      continue
    }
    if (c === '\\') {
      if (++i >= pattern.length) return undefined
      run += pattern[i]!
    } else {
      run += c
    }
    endsLiteral = true
  }
  if (run) runs.push(run)
  if (runs.length === 0) return undefined
  if (pattern[0] !== '%' && pattern[0] !== '_') return { kind: 'prefix', literal: runs[0]! }
  if (endsLiteral) return { kind: 'suffix', literal: runs[runs.length - 1]! }
  return { kind: 'contains', literal: runs.reduce((a, b) => (b.length > a.length ? b : a)) }
}
