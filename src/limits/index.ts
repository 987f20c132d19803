// Limits on what one client can make the server spend. Every resource a client's input or connection
// costs (where size, shapes, subscriptions, snapshots and subsets, log memory, write batches) has a named limit
// here with a safe default; exceeding one is answered at once with a LimitError that names the limit
// (BAD_REQUEST / HTTP 400, or 429 for limits of the whole server), and is never retried.

export interface SyncLimits {
  /**
   * Bytes of one client where input (its JSON text, UTF-8, superjson's shared references expanded) or of
   * one keyword where clause (sync.shape's, the standalone server's `where`). Default 16 KiB.
   */
  whereBytes: number
  /**
   * Conditions (leaf filters) in one where input, after superjson's shared references are resolved
   * (a subtree sent once and referenced twice counts twice). Each operator on a field is one (a bare
   * value is `equals`; an `in` list is one; `mode` is none). Checked on client filters (sync.where) and
   * again on sync.shape's where (the client's filter with what the server adds). Default 256.
   */
  whereConditions: number
  /**
   * Nesting depth of one where input's objects and arrays (`{ AND: [{ title: { not: 'x' } }] }` is 4).
   * Bounds the recursion of validating and compiling it; checked like whereConditions. Default 32.
   */
  whereDepth: number
  /** Values in one `in` / `notIn` list of a client filter (sync.where). Default 1,000. */
  inValues: number
  /**
   * Parameters of one compiled shape, Prisma or keyword (an insensitive `in` takes one per value);
   * Postgres's bind message allows 65,535, which no setting exceeds. Default 10,000.
   */
  shapeParams: number
  /** Subscriptions one tRPC connection may hold open at once. Default 100. */
  subscriptionsPerConnection: number
  /** Distinct shape definitions one tRPC connection's subscriptions may hold at once. Default 50. */
  shapesPerConnection: number
  /** Shape logs the engine keeps in total (idle ones are evicted first; then new shapes get 429). Default 10,000. */
  shapes: number
  /** Snapshots (initial queries, and subset queries: `subset__*`) running at once; more wait their turn. Default 4. */
  concurrentSnapshots: number
  /** Snapshots waiting for their turn; beyond that a new shape or subset gets 429. Default 1,000. */
  queuedSnapshots: number
  /**
   * Bytes of one subset snapshot's rows (their values' text, UTF-8), which are held in memory until sent;
   * a larger subset is refused with 400. Default 16 MiB.
   */
  subsetBytes: number
  /** Bytes all shape logs keep in memory together; past it the coldest shapes are evicted (readers refetch). Default 512 MiB. */
  logBytes: number
  /** Operations in one write batch. Default 1,000. */
  batchOperations: number
  /** Bytes of one write batch (its JSON text). Default 1 MiB. */
  batchBytes: number
}

export const defaultLimits: Readonly<SyncLimits> = Object.freeze({
  whereBytes: 16 * 1024,
  whereConditions: 256,
  whereDepth: 32,
  inValues: 1000,
  shapeParams: 10_000,
  subscriptionsPerConnection: 100,
  shapesPerConnection: 50,
  shapes: 10_000,
  concurrentSnapshots: 4,
  queuedSnapshots: 1000,
  subsetBytes: 16 * 1024 * 1024,
  logBytes: 512 * 1024 * 1024,
  batchOperations: 1000,
  batchBytes: 1024 * 1024,
})

/** The limits in force: the defaults with the app's overrides (each a positive number; Infinity turns one off). */
export function resolveLimits(overrides: Partial<SyncLimits> = {}): Readonly<SyncLimits> {
  const limits = { ...defaultLimits }
  for (const [name, value] of Object.entries(overrides) as [keyof SyncLimits, number | undefined][]) {
    if (value === undefined) continue
    if (!(name in defaultLimits)) throw new Error(`limits: unknown limit "${name}"; known: ${Object.keys(defaultLimits).join(', ')}`)
    if (typeof value !== 'number' || !(value > 0)) throw new Error(`limits.${name}: expected a positive number, got ${String(value)}`)
    limits[name] = value
  }
  return Object.freeze(limits)
}

/**
 * A request over one of the limits. `field` makes it a client error for every transport (HTTP 400 naming
 * it, tRPC BAD_REQUEST); `status` 429 marks limits of the whole server (retry later, elsewhere).
 */
export class LimitError extends Error {
  override readonly name = 'LimitError'
  readonly field: string
  constructor(readonly limit: keyof SyncLimits, readonly max: number, what: string, readonly status: 400 | 429 = 400) {
    super(`${what} (limit ${limit}: ${max})`)
    this.field = limit
  }
}
