// Routing a changed row to the shapes whose where clause it satisfies. Shapes with an equality
// conjunct (`column = value`, `column IN (values)`, `column = ANY(array)`) sit in a hash table keyed by
// the canonical form of the value in the comparison's type, so a row only visits the shapes whose key it
// has. Shapes with a LIKE / ILIKE conjunct (Prisma's startsWith / endsWith / contains) sit in a trie or
// an Aho-Corasick automaton under the literal every match must start with, end with or contain (the
// value folded by the evaluator's own ILIKE case mapping), so a row visits only the shapes whose literal
// its value has, in time ~ the value's length. The rest are evaluated one by one. Every candidate's full
// where clause is evaluated, so `match` returns exactly the shapes whose where clause is TRUE for the row.
import type { CompiledWhere, EqualityCondition, LikeCondition, Row } from './expr.js'
import { likeRequirement, type LikeRequirement } from './like-pattern.js'
import { AnchoredTermIndex, SubstringTermIndex } from './term-index.js'

/** A time budget for routing: `spent()` ends a slice, `next()` resolves when the next one may begin. */
export interface MatchBudget {
  spent(): boolean
  next(): Promise<void>
}

interface Entry<T> {
  readonly id: T
  readonly where: CompiledWhere | undefined
  readonly group?: Group<T>
  readonly keys?: readonly string[]
  readonly likeGroup?: LikeGroup<T>
  /** One per pattern of an OR of LIKEs: the entry is a candidate when any of them is met. */
  readonly requirements?: readonly LikeRequirement[]
}

/** The LIKE shapes of one column and case mapping, by the literal their pattern requires. */
interface LikeGroup<T> {
  readonly key: string
  readonly column: string
  readonly fold: ((text: string) => string) | undefined
  readonly prefix: AnchoredTermIndex<Entry<T>>
  readonly suffix: AnchoredTermIndex<Entry<T>>
  readonly contains: SubstringTermIndex<Entry<T>>
  size: number
  /** Entries with several requirements, which a row can reach more than once. */
  multi: number
}

interface Group<T> {
  readonly key: string
  readonly column: string
  readonly keyOf: (text: string) => string | undefined
  readonly buckets: Map<string, Set<Entry<T>>>
  size: number
}

export class FilterIndex<T> {
  private readonly entries = new Map<T, Entry<T>>()
  private readonly groups = new Map<string, Group<T>>()
  private readonly likeGroups = new Map<string, LikeGroup<T>>()
  /** Shapes without an indexable condition (or without a where clause). */
  private readonly others = new Set<Entry<T>>()

  get size(): number {
    return this.entries.size
  }

  /** Adds (or replaces) a shape; `where` undefined means the shape has every row. */
  add(id: T, where: CompiledWhere | undefined): void {
    this.remove(id)
    const condition = where && this.pickCondition(where.equalityConditions)
    if (where && (!condition || condition.fewValues)) {
      const like = this.pickLike(where.likeConditions)
      if (like) return this.addLike(id, where, like.condition, like.requirements)
    }
    if (!where || !condition) {
      const entry: Entry<T> = { id, where }
      this.entries.set(id, entry)
      this.others.add(entry)
      return
    }
    const groupKey = `${condition.column}\u0000${condition.domain}`
    let group = this.groups.get(groupKey)
    if (!group) {
      group = { key: groupKey, column: condition.column, keyOf: condition.keyOf, buckets: new Map(), size: 0 }
      this.groups.set(groupKey, group)
    }
    const keys = [...new Set(condition.keys)]
    const entry: Entry<T> = { id, where, group, keys }
    for (const key of keys) {
      let bucket = group.buckets.get(key)
      if (!bucket) group.buckets.set(key, (bucket = new Set()))
      bucket.add(entry)
    }
    group.size++
    this.entries.set(id, entry)
  }

  remove(id: T): boolean {
    const entry = this.entries.get(id)
    if (!entry) return false
    this.entries.delete(id)
    if (entry.likeGroup) {
      this.removeLike(entry)
      return true
    }
    const group = entry.group
    if (!group) {
      this.others.delete(entry)
      return true
    }
    for (const key of entry.keys!) {
      const bucket = group.buckets.get(key)!
      bucket.delete(entry)
      if (bucket.size === 0) group.buckets.delete(key)
    }
    if (--group.size === 0) this.groups.delete(group.key)
    return true
  }

  /**
   * The shapes whose where clause is TRUE for the row. With `onError`, a shape whose where clause raises
   * a runtime error for the row (where Postgres's query would fail) is reported to it, not matched.
   */
  match(row: Row, onError?: (id: T, error: Error) => void): Set<T>
  /**
   * With a budget, the shapes evaluated one by one pause between evaluations once `budget.spent()`: the
   * result is then a promise, settled after `budget.next()` let the rest run. A shape removed meanwhile
   * and not yet evaluated is skipped; one added meanwhile may be evaluated (callers that route a
   * transaction must not count it).
   */
  match(row: Row, onError: ((id: T, error: Error) => void) | undefined, budget: MatchBudget): Set<T> | Promise<Set<T>>
  match(row: Row, onError?: (id: T, error: Error) => void, budget?: MatchBudget): Set<T> | Promise<Set<T>> {
    const matched = new Set<T>()
    for (const group of this.groups.values()) {
      const text = row[group.column]
      if (text == null) continue // column = value is never true for NULL
      const key = group.keyOf(text)
      const bucket = key === undefined ? undefined : group.buckets.get(key)
      if (!bucket) continue
      for (const entry of bucket) if (this.test(entry, row, onError)) matched.add(entry.id)
    }
    for (const group of this.likeGroups.values()) {
      const text = row[group.column]
      if (text == null) continue // LIKE is never true for NULL
      const value = group.fold ? group.fold(text) : text
      const seen = group.multi > 0 ? new Set<Entry<T>>() : undefined
      const visit = (entry: Entry<T>) => {
        if (seen) {
          if (seen.has(entry)) return
          seen.add(entry)
        }
        if (this.test(entry, row, onError)) matched.add(entry.id)
      }
      if (group.prefix.size) group.prefix.match(value, visit)
      if (group.suffix.size) group.suffix.match(value, visit)
      if (group.contains.size) group.contains.match(value, visit)
    }
    if (!budget) {
      for (const entry of this.others) if (this.test(entry, row, onError)) matched.add(entry.id)
      return matched
    }
    return this.matchOthers(this.others.values(), row, onError, budget, matched)
  }

  /** The unindexed shapes from `rest` on, pausing when the budget is spent (Set iterators see deletions). */
  private matchOthers(
    rest: Iterator<Entry<T>>, row: Row, onError: ((id: T, error: Error) => void) | undefined, budget: MatchBudget, matched: Set<T>,
  ): Set<T> | Promise<Set<T>> {
    for (let next = rest.next(); !next.done; next = rest.next()) {
      if (this.test(next.value, row, onError)) matched.add(next.value.id)
      if (budget.spent()) {
        return budget.next().then(() => this.matchOthers(rest, row, onError, budget, matched))
      }
    }
    return matched
  }

  private addLike(id: T, where: CompiledWhere, condition: LikeCondition, requirements: readonly LikeRequirement[]): void {
    const key = `${condition.column}\u0000${condition.domain}`
    let group = this.likeGroups.get(key)
    if (!group) {
      group = {
        key, column: condition.column, fold: condition.fold, size: 0, multi: 0,
        prefix: new AnchoredTermIndex(false), suffix: new AnchoredTermIndex(true), contains: new SubstringTermIndex(),
      }
      this.likeGroups.set(key, group)
    }
    const entry: Entry<T> = { id, where, likeGroup: group, requirements }
    for (const r of requirements) group[r.kind].add(r.literal, entry)
    group.size++
    if (requirements.length > 1) group.multi++
    this.entries.set(id, entry)
  }

  private removeLike(entry: Entry<T>): void {
    const group = entry.likeGroup!
    const requirements = entry.requirements!
    for (const r of requirements) group[r.kind].remove(r.literal, entry)
    if (requirements.length > 1) group.multi--
    if (--group.size === 0) this.likeGroups.delete(group.key)
  }

  /**
   * The LIKE conjunct whose least selective pattern requires the longest literal (anchored ones first: a
   * trie walk is cheapest), and fewer patterns. Usable only when every pattern requires a literal.
   */
  private pickLike(conditions: readonly LikeCondition[]): { condition: LikeCondition; requirements: LikeRequirement[] } | undefined {
    let best: { condition: LikeCondition; requirements: LikeRequirement[] } | undefined
    let bestScore = -Infinity
    for (const condition of conditions) {
      const requirements = condition.patterns.map(likeRequirement)
      if (!requirements.every((r) => r !== undefined)) continue
      const score = Math.min(...requirements.map((r) => r.literal.length * 2 + (r.kind === 'contains' ? 0 : 1))) - requirements.length / 1e6
      if (score > bestScore) {
        best = { condition, requirements: requirements as LikeRequirement[] }
        bestScore = score
      }
    }
    return best
  }

  private test(entry: Entry<T>, row: Row, onError: ((id: T, error: Error) => void) | undefined): boolean {
    if (!entry.where) return true
    if (!onError) return entry.where.evaluate(row)
    const result = entry.where.evaluateOrError(row)
    if (result === true || result === false) return result
    onError(entry.id, result)
    return false
  }

  /**
   * Prefers a column with many values (not bool or enum, where one bucket would hold most shapes), then a
   * column that already has a hash table (one probe per row), then fewer keys.
   */
  private pickCondition(conditions: readonly EqualityCondition[]): EqualityCondition | undefined {
    let best: EqualityCondition | undefined
    let bestScore = Infinity
    for (const c of conditions) {
      const score = (c.fewValues ? 1e12 : 0) + (this.groups.has(`${c.column}\u0000${c.domain}`) ? 0 : 1e6) + c.keys.length
      if (score < bestScore) {
        best = c
        bestScore = score
      }
    }
    return best
  }
}
