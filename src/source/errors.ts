// Error classification, in one place, for every transport and retry loop. Invariant: an error is
// `request` (the client's input is at fault: answered once with 400 / BAD_REQUEST, never retried),
// `unavailable` (the database or an upstream Electric is unreachable or restarting: retried with a
// bound, then 503), or `internal` (anything else: answered at once with 500 / INTERNAL_SERVER_ERROR,
// never retried: a bug or a fault no retry cures). Postgres errors are classified by SQLSTATE: a query
// Postgres rejects for what it says (bad values, too many parameters, unsupported constructs) is the
// request's; only connection-level and resource-exhaustion states are worth retrying.

export type ErrorClass = 'request' | 'unavailable' | 'internal'

/** Node socket errors of a connection that could not be made or was lost. */
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])

/**
 * SQLSTATEs of the connection or the server's state, which a retry can cure: connection exceptions
 * (08000, 08001, 08003, 08004, 08006; not 08P01, a protocol violation of one query's messages),
 * too many connections (53300), shutdown / crash / cannot connect now (57P01-57P03), serialization
 * failure and deadlock (40001, 40P01).
 */
const transientStates = new Set(['08000', '08001', '08003', '08004', '08006', '53300', '57P01', '57P02', '57P03', '40001', '40P01'])

/**
 * SQLSTATE classes of a query Postgres refuses for what the query says: data exceptions (22), syntax or
 * access rule violations (42), program limits such as too many parameters or too complex (54), feature
 * not supported (0A), cardinality (21); and 08P01, the bind message of a query with more than 65,535
 * parameters (Postgres counts them in 16 bits).
 */
const requestClasses = new Set(['22', '42', '54', '0A', '21'])

/** The SQLSTATE of a Postgres error (a `pg` DatabaseError, or one kept by Prisma's driver adapter). */
export function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const e = error as { name?: unknown; code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } }
  const adapted = e.meta?.driverAdapterError?.cause?.originalCode
  if (typeof adapted === 'string' && /^[0-9A-Z]{5}$/.test(adapted)) return adapted
  // A Prisma error's own `code` is Prisma's (P2002), not a SQLSTATE.
  if (typeof e.name === 'string' && e.name.startsWith('PrismaClient')) return undefined
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined
}

/** What a Postgres error with this SQLSTATE means for its request (see above). */
export function classifySqlState(state: string): ErrorClass {
  if (transientStates.has(state)) return 'unavailable'
  if (state === '08P01' || requestClasses.has(state.slice(0, 2))) return 'request'
  return 'internal'
}

// `pg` reports a connection lost mid-query without a code; these are its messages for it.
const lostConnection = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed and is not queryable)/

/**
 * The one classification: the error's own marks first (`field`: the request's fault, except the
 * database itself as `field`; `transient`: a source's own unavailability), then the SQLSTATE or
 * socket code, then `pg`'s lost-connection messages; anything else is internal.
 */
export function classifyError(error: unknown): ErrorClass {
  if (typeof error !== 'object' || error === null) return 'internal'
  const e = error as { field?: unknown; transient?: unknown; code?: unknown; name?: unknown; message?: unknown }
  if (e.transient === true || e.field === 'database') return 'unavailable'
  if (typeof e.field === 'string' || e.name === 'ShapeError') return 'request'
  const state = sqlStateOf(error)
  // A FATAL error ends the connection (a protocol violation of the connection itself, not of one query's bind).
  if (state === '08P01' && (error as { severity?: unknown }).severity === 'FATAL') return 'unavailable'
  if (state) return classifySqlState(state)
  if (typeof e.code === 'string' && socketCodes.has(e.code)) return 'unavailable'
  if (typeof e.message === 'string' && lostConnection.test(e.message)) return 'unavailable'
  return 'internal'
}

/** A retry can cure it (and only then is it retried). */
export const isRetryable = (error: unknown): boolean => classifyError(error) === 'unavailable'

export interface RetryBound {
  /** Retries of one run of consecutive failures before giving up. Default 20. */
  maxRetries?: number
  /** Or once failures have gone on for this long, ms. Default 60 s. */
  maxMs?: number
}

/**
 * Backoff with a bound for one run of consecutive failures: `next()` is the delay before the next
 * attempt (100 ms doubling to 5 s), or undefined once the bound is spent; `reset()` after a success.
 */
export class Backoff {
  private attempts = 0
  private since = 0
  constructor(private readonly bound: RetryBound = {}) {}

  next(now = Date.now()): number | undefined {
    if (this.attempts === 0) this.since = now
    this.attempts++
    if (this.attempts > (this.bound.maxRetries ?? 20) || now - this.since > (this.bound.maxMs ?? 60_000)) return undefined
    return Math.min(100 * 2 ** (this.attempts - 1), 5000)
  }

  reset(): void {
    this.attempts = 0
  }
}
