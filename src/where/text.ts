// Text semantics: ordering, case mapping and LIKE.
//
// Text is ordered by Unicode code point, i.e. byte order of UTF-8: Postgres's order under the C, POSIX,
// C.UTF-8 and builtin collations, and the order Electric's evaluator uses. Equality under a deterministic
// collation is byte equality. Which collations these functions are exact for is decided in collation.ts;
// the compiler refuses the others.
import type { CaseMapping } from './collation.js'
import { fail } from './errors.js'

/** Code point order. JS `<` compares UTF-16 units, which misorders U+E000..U+FFFF against astral characters. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        // Surrogates (astral code points) sort after U+E000..U+FFFF.
        x = x < 0xe000 ? x + 0x2000 : x - 0x800
        y = y < 0xe000 ? y + 0x2000 : y - 0x800
      }
      return x < y ? -1 : 1
    }
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0
}

const ASCII = /^[\x00-\x7f]*$/

// Case mapping follows glibc's C.UTF-8 towlower/towupper: one code point to one code point (Unicode's
// simple mappings; JS's toLowerCase uses the full ones), and characters added in Unicode 16 are left
// alone, as glibc 2.36's tables predate them.
const SIMPLE_LOWER = new Map<number, number>([[0x130, 0x69]])
const SIMPLE_UPPER = new Map<number, number>([[0x1fb3, 0x1fbc], [0x1fc3, 0x1fcc], [0x1ff3, 0x1ffc]])
for (const start of [0x1f80, 0x1f90, 0x1fa0]) for (let c = start; c < start + 8; c++) SIMPLE_UPPER.set(c, c + 8)
const UNMAPPED: ReadonlyArray<readonly [number, number]> = [
  [0x19b, 0x19b], [0x264, 0x264], [0x1c89, 0x1c8a], [0xa7cb, 0xa7cf], [0xa7d2, 0xa7d5], [0xa7da, 0xa7dc], [0x10d50, 0x10d85], [0x16ea0, 0x16ed3],
]

function mapChar(ch: string, cp: number, upper: boolean): string {
  const fixed = (upper ? SIMPLE_UPPER : SIMPLE_LOWER).get(cp)
  if (fixed !== undefined) return String.fromCodePoint(fixed)
  if (UNMAPPED.some(([lo, hi]) => cp >= lo && cp <= hi)) return ch
  const mapped = upper ? ch.toUpperCase() : ch.toLowerCase()
  // Multi-character results are full mappings with no simple equivalent: keep the character.
  return mapped.length === ch.length || [...mapped].length === 1 ? mapped : ch
}

/** The characters of planes 0 and 1 (where all cased ones are) that change, built on first use. */
let tables: { lower: Map<number, string>; upper: Map<number, string> } | undefined
function caseTables(): { lower: Map<number, string>; upper: Map<number, string> } {
  if (tables) return tables
  const t = { lower: new Map<number, string>(), upper: new Map<number, string>() }
  for (let cp = 0x80; cp <= 0x1ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue
    const ch = String.fromCodePoint(cp)
    const l = mapChar(ch, cp, false)
    const u = mapChar(ch, cp, true)
    if (l !== ch) t.lower.set(cp, l)
    if (u !== ch) t.upper.set(cp, u)
  }
  return (tables = t)
}

function mapCase(s: string, upper: boolean): string {
  if (ASCII.test(s)) return upper ? s.toUpperCase() : s.toLowerCase()
  const table = upper ? caseTables().upper : caseTables().lower
  let out = ''
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    out += cp < 0x80 ? (upper ? ch.toUpperCase() : ch.toLowerCase()) : cp <= 0x1ffff ? table.get(cp) ?? ch : mapChar(ch, cp, upper)
  }
  return out
}

export function lower(s: string): string {
  return mapCase(s, false)
}

export function upper(s: string): string {
  return mapCase(s, true)
}

/**
 * Every code point of planes 0 and 1 (all cased characters are there), in one string: libc maps case one
 * character at a time, so a server agrees with `lower`/`upper` on every string exactly when its
 * lower()/upper() of this string equal ours (the engine checks it once per collation).
 */
export function caseProbe(): string {
  let probe = ''
  for (let cp = 1; cp <= 0x1ffff; cp++) if (cp < 0xd800 || cp > 0xdfff) probe += String.fromCodePoint(cp)
  return probe
}

/** Under LC_CTYPE C / POSIX (and builtin C), Postgres's lower/upper change only ASCII letters. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase())
}

function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase())
}

export function lowerFor(mapping: CaseMapping): (s: string) => string {
  return mapping === 'ascii' ? asciiLower : lower
}

export function upperFor(mapping: CaseMapping): (s: string) => string {
  return mapping === 'ascii' ? asciiUpper : upper
}

/** Postgres's MatchText result: ABORT means no match is possible at any later start position either. */
const TRUE = 1
const FALSE = 0
const ABORT = -1

/** `text LIKE pattern` with backslash as the escape character, matching code points as Postgres does. */
export function like(text: string, pattern: string): boolean {
  return matchText(text, 0, pattern, 0) === TRUE
}

/** Code units of the character at i: 2 for a surrogate pair. `_` matches one character. */
function charLength(s: string, i: number): number {
  const c = s.charCodeAt(i)
  return c >= 0xd800 && c < 0xdc00 && i + 1 < s.length ? 2 : 1
}

// A port of MatchText (src/backend/utils/adt/like_match.c), including where it raises an error. Like
// Postgres, which compares bytes, literals are compared one code unit at a time.
function matchText(t: string, ti0: number, p: string, pi0: number): number {
  let ti = ti0
  let pi = pi0
  const tlen = t.length
  const plen = p.length
  while (ti < tlen && pi < plen) {
    const pc = p.charCodeAt(pi)
    if (pc === 0x5c /* \ */) {
      if (++pi >= plen) fail('LIKE pattern must not end with escape character')
      if (p.charCodeAt(pi) !== t.charCodeAt(ti)) return FALSE
    } else if (pc === 0x25 /* % */) {
      pi++
      while (pi < plen) {
        const c = p.charCodeAt(pi)
        if (c === 0x25) pi++
        else if (c === 0x5f /* _ */) {
          if (ti >= tlen) return ABORT
          ti += charLength(t, ti)
          pi++
        } else break
      }
      if (pi >= plen) return TRUE
      let first = p.charCodeAt(pi)
      if (first === 0x5c) {
        if (pi + 1 >= plen) fail('LIKE pattern must not end with escape character')
        first = p.charCodeAt(pi + 1)
      }
      while (ti < tlen) {
        if (t.charCodeAt(ti) === first) {
          const r = matchText(t, ti, p, pi)
          if (r !== FALSE) return r
        }
        ti += charLength(t, ti)
      }
      return ABORT
    } else if (pc === 0x5f /* _ */) {
      ti += charLength(t, ti)
      pi++
      continue
    } else if (pc !== t.charCodeAt(ti)) {
      return FALSE
    }
    pi++
    ti++
  }
  if (ti < tlen) return FALSE
  while (pi < plen && p.charCodeAt(pi) === 0x25) pi++
  return pi >= plen ? TRUE : ABORT
}

/** like_escape(pattern, escape): rewrites a pattern with a custom escape character to use backslash. */
export function likeEscape(pattern: string, escape: string): string {
  if (escape === '') return pattern.replaceAll('\\', '\\\\')
  if ([...escape].length !== 1) fail('invalid escape string')
  if (escape === '\\') return pattern
  let out = ''
  let afterEscape = false
  for (const ch of pattern) {
    if (ch === escape && !afterEscape) {
      out += '\\'
      afterEscape = true
    } else if (ch === '\\') {
      out += afterEscape ? '\\' : '\\\\'
      afterEscape = false
    } else {
      out += ch
      afterEscape = false
    }
  }
  return out
}
