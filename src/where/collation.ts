// Collations: which collation each text expression has (Postgres's derivation rules, parse_collate.c) and
// what the evaluator can compute exactly under it. Invariant: an operator or function that consults a
// collation is evaluated only when its result provably equals Postgres's under that collation; otherwise
// compiling fails with a WhereError naming the column, its collation and the fix. Nothing is approximated.
import { WhereError } from './errors.js'

/** A collation as the catalog describes it (pg_collation, or pg_database for the default). */
export interface Collation {
  /** `default` for the database's collation; otherwise pg_collation.collname ("C", "en-US-x-icu", …). */
  readonly name: string
  readonly provider: 'libc' | 'icu' | 'builtin'
  /** LC_COLLATE for libc; the locale for ICU and builtin collations. */
  readonly collate: string
  /** LC_CTYPE for libc; the locale for ICU and builtin collations. */
  readonly ctype: string
  /** False for nondeterministic (ICU) collations, under which even `=` is not byte equality. */
  readonly deterministic: boolean
  /**
   * Set when the server's case tables were compared with the evaluator's (`caseProbe()`) and differ,
   * e.g. a glibc of another Unicode version: lower/upper/ILIKE under this collation are then refused.
   */
  readonly caseTablesDiffer?: boolean
}

/** What the evaluator assumes when it is told nothing: the test cluster's libc C.UTF-8. */
export const C_UTF8_DEFAULT: Collation = { name: 'default', provider: 'libc', collate: 'C.UTF-8', ctype: 'C.UTF-8', deterministic: true }

const LIBC_C: Omit<Collation, 'name'> = { provider: 'libc', collate: 'C', ctype: 'C', deterministic: true }

/** Collations every Postgres has, usable in `COLLATE` (ucs_basic is libc C before 17, builtin C since). */
export const BUILTIN_COLLATIONS: ReadonlyMap<string, Collation> = new Map(
  ['C', 'POSIX', 'ucs_basic'].map((name) => [name, { name, ...LIBC_C }]),
)

/** How text compares under a collation, when the evaluator can do it: Unicode code point order. */
export function ordersByCodePoint(c: Collation): boolean {
  // glibc's C.UTF-8 sorts by code point (checked by the differential tests); builtin collations all do.
  return c.provider === 'builtin' || (c.provider === 'libc' && /^(C|POSIX|C\.UTF-?8)$/i.test(c.collate))
}

/**
 * lower/upper/ILIKE under a collation: `ascii` (LC_CTYPE C/POSIX and builtin C change only A-Z/a-z),
 * `unicode` (glibc's towlower/towupper, whose tables C.UTF-8 and en_US.UTF-8 share), or undefined when
 * the evaluator cannot reproduce them (ICU's full, version-dependent case mapping; builtin C.UTF-8's
 * Unicode version; other libc locales, such as tr_TR, with their own tables).
 */
export type CaseMapping = 'ascii' | 'unicode'

export function caseMappingOf(c: Collation): CaseMapping | undefined {
  if (c.provider === 'builtin') return c.ctype === 'C' ? 'ascii' : undefined
  if (c.provider !== 'libc') return undefined
  if (c.ctype === 'C' || c.ctype === 'POSIX') return 'ascii'
  return /^(C|en_US)\.UTF-?8$/i.test(c.ctype) && !c.caseTablesDiffer ? 'unicode' : undefined
}

/** A derived collation (Postgres's collation and strength of an expression of a collatable type). */
export interface Derived {
  readonly collation: Collation
  readonly strength: 'implicit' | 'conflict' | 'explicit'
  /** The column it comes from, for messages. */
  readonly column?: string
  /** With `conflict`: the other implicit collation. */
  readonly other?: Collation
  readonly location: number
}

/** Merges the collations of sibling expressions as assign_collations_walker does. */
export function mergeCollations(states: readonly (Derived | undefined)[]): Derived | undefined {
  let acc: Derived | undefined
  for (const s of states) {
    if (!s) continue
    if (!acc || rank(s) > rank(acc)) {
      acc = s
      continue
    }
    if (rank(s) < rank(acc)) continue
    if (s.collation.name === acc.collation.name) {
      if (!acc.column && s.column && acc.strength !== 'conflict') acc = s // name the column in messages
      continue
    }
    if (acc.strength === 'explicit') {
      throw new WhereError(`collation mismatch between explicit collations "${acc.collation.name}" and "${s.collation.name}"`, s.location)
    }
    if (acc.strength === 'implicit') {
      // A non-default implicit collation beats the default; two different non-default ones conflict.
      if (acc.collation.name === 'default') acc = s
      else if (s.collation.name !== 'default') acc = { ...acc, strength: 'conflict', other: s.collation }
    }
  }
  return acc
}

function rank(d: Derived): number {
  return d.strength === 'implicit' ? 1 : d.strength === 'conflict' ? 2 : 3
}

/** What an operator or function needs from the collation of its operands. */
export type CollationUse = 'equality' | 'ordering' | 'like' | 'case'

/**
 * The collation `what` runs under; a WhereError when it has none (conflicting implicit collations) or
 * when the evaluator cannot compute `what` exactly under it.
 */
export function requireCollation(d: Derived, use: CollationUse, what: string, location: number): Collation {
  if (d.strength === 'conflict') {
    throw new WhereError(
      `collation mismatch between implicit collations "${d.collation.name}" and "${d.other!.name}" in ${what}: ` +
        `choose one with COLLATE, e.g. COLLATE "C"`,
      location,
    )
  }
  const c = d.collation
  const problem =
    !c.deterministic && use !== 'case' ? 'it is nondeterministic'
      : use === 'ordering' && !ordersByCodePoint(c) ? 'it sorts by the locale\'s rules'
        : use === 'case' && !caseMappingOf(c)
          ? c.caseTablesDiffer ? 'the server\'s case tables differ from the evaluator\'s' : 'its case mapping is the locale\'s'
          : undefined
  if (!problem) return c
  const column = d.column ? `"${d.column}"` : undefined
  const subject = column ? `${column} has ${describeCollation(c)}` : `the operands have ${describeCollation(c)}`
  const x = column ?? 'x'
  const fix = use === 'case'
    ? /ILIKE/.test(what)
      ? `use ${x} COLLATE "C" ${what} $1 for ASCII-only case mapping`
      : `use ${what.replace('()', '')}(${x} COLLATE "C") for ASCII-only case mapping`
    : use === 'ordering'
      ? `compare with COLLATE "C" for code point order, e.g. ${x} COLLATE "C" < $1`
      : `compare with COLLATE "C" for exact (byte) equality, e.g. ${x} COLLATE "C" ${use === 'like' ? 'LIKE' : '='} $1`
  throw new WhereError(`${subject}; ${what} under it cannot be evaluated outside Postgres (${problem}): ${fix}`, location)
}

export function describeCollation(c: Collation): string {
  const facts = c.provider === 'libc'
    ? `libc, LC_COLLATE ${c.collate}${c.ctype === c.collate ? '' : `, LC_CTYPE ${c.ctype}`}`
    : `${c.provider === 'icu' ? 'ICU' : 'builtin'} locale ${c.collate}${c.deterministic ? '' : ', nondeterministic'}`
  return c.name === 'default' ? `the database's default collation (${facts})` : `collation "${c.name}" (${facts})`
}
