// The rows a page shows, in the page's order: by the view's comparator (ties broken by key, so the
// order is total and every render agrees), or in arrival order without one.

export type Order<Row> = (a: Row, b: Row) => number

export class RowList<Row> {
  private readonly rows = new Map<string, Row>()
  /** Keys sorted by `order`; undefined for arrival order (the Map's own). */
  private readonly sorted: string[] | undefined

  constructor(private readonly order?: Order<Row>) {
    this.sorted = order ? [] : undefined
  }

  get size(): number {
    return this.rows.size
  }

  has(key: string): boolean {
    return this.rows.has(key)
  }

  /** Rows in page order. */
  *entries(): IterableIterator<[string, Row]> {
    if (!this.sorted) return yield* this.rows.entries()
    for (const key of this.sorted) yield [key, this.rows.get(key)!]
  }

  /**
   * Adds or replaces a row. Returns where it now is: the key of the row after it (null: last), or
   * undefined when it replaced a row in place (arrival order keeps a row where it first arrived).
   */
  set(key: string, row: Row): string | null | undefined {
    const existed = this.rows.has(key)
    if (!this.sorted) {
      this.rows.set(key, row)
      return existed ? undefined : null
    }
    if (existed) this.sorted.splice(this.indexOf(key), 1)
    this.rows.set(key, row)
    const at = this.insertionPoint(key, row)
    this.sorted.splice(at, 0, key)
    return this.sorted[at + 1] ?? null
  }

  delete(key: string): boolean {
    if (!this.rows.has(key)) return false
    if (this.sorted) this.sorted.splice(this.indexOf(key), 1)
    return this.rows.delete(key)
  }

  clear(): void {
    this.rows.clear()
    this.sorted?.splice(0)
  }

  clone(): RowList<Row> {
    const copy = new RowList<Row>(this.order)
    for (const [key, row] of this.entries()) {
      copy.rows.set(key, row)
      copy.sorted?.push(key)
    }
    return copy
  }

  private compare(keyA: string, a: Row, keyB: string, b: Row): number {
    return this.order!(a, b) || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0)
  }

  /** First index whose row sorts after (key, row). */
  private insertionPoint(key: string, row: Row): number {
    const sorted = this.sorted!
    let lo = 0
    let hi = sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const other = sorted[mid]!
      if (this.compare(other, this.rows.get(other)!, key, row) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private indexOf(key: string): number {
    const sorted = this.sorted!
    const at = this.insertionPoint(key, this.rows.get(key)!)
    // A comparator that is not consistent (e.g. reads the clock) can lose the binary search.
    return sorted[at] === key ? at : sorted.indexOf(key)
  }
}
