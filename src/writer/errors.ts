// The one error type the write path throws for anything a client sent or a hook rejected. It names the
// pipeline step and the operation, and says what kind of failure it is, which the tRPC layer maps to a code.

/** Pipeline steps, in the order they run. */
export type WriterStep =
  | 'parse'
  | 'batch'
  | 'accept'
  | 'check'
  | 'beforeAll'
  | 'load'
  | 'authorize'
  | 'conflict'
  | 'validate'
  | 'primaryKey'
  | 'preApply'
  | 'write'
  | 'postApply'

/**
 * What went wrong, independent of transport:
 * - `invalid`: malformed batch, unknown table or field, a value of the wrong type, failed validation,
 *   missing primary key, data Postgres rejects (class 22, not-null, check constraints)
 * - `forbidden`: operation type not in `accept`, `check` or `authorize` rejected it
 * - `not_found`: `load` found no row to update or delete
 * - `conflict`: with `onConflict: 'reject'` a changed column no longer holds the client's original value; a batch id reused for a different batch, unique / foreign-key / exclusion violation, row gone at write time, serialization failure
 * - `error`: a hook threw something else (a bug, or an app error such as a TRPCError carried as `cause`)
 */
export type WriterErrorKind = 'invalid' | 'forbidden' | 'not_found' | 'conflict' | 'error'

export interface WriterIssue {
  readonly path: readonly PropertyKey[]
  readonly message: string
}

export interface WriterErrorInit {
  step: WriterStep
  kind: WriterErrorKind
  /** Position of the operation in the batch; absent for errors about the batch as a whole. */
  operationIndex?: number | undefined
  /** The bare reason, without step or index. */
  reason: string
  issues?: readonly WriterIssue[] | undefined
  cause?: unknown
}

export class WriterError extends Error {
  override readonly name = 'WriterError'
  readonly step: WriterStep
  readonly kind: WriterErrorKind
  readonly operationIndex: number | undefined
  readonly reason: string
  /** Validation issues (from a schema) or parse issues, when there are any. */
  readonly issues: readonly WriterIssue[]

  constructor(init: WriterErrorInit) {
    const where = init.operationIndex === undefined ? 'batch' : `operation ${init.operationIndex}`
    super(`${init.step} failed for ${where}: ${init.reason}`, init.cause === undefined ? undefined : { cause: init.cause })
    this.step = init.step
    this.kind = init.kind
    this.operationIndex = init.operationIndex
    this.reason = init.reason
    this.issues = init.issues ?? []
  }
}

/**
 * Turns whatever a step threw into a WriterError at that step. WriterErrors pass through untouched;
 * database errors are classified by SQLSTATE or Prisma error code; anything else is kept as `cause`.
 */
export function toWriterError(error: unknown, step: WriterStep, operationIndex: number | undefined): WriterError {
  if (error instanceof WriterError) return error
  return new WriterError({ step, operationIndex, kind: classify(error), reason: messageOf(error), cause: error })
}

function classify(error: unknown): WriterErrorKind {
  if (typeof error !== 'object' || error === null) return 'error'
  const e = error as { name?: unknown; code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } }
  // Prisma over a driver adapter keeps the SQLSTATE; a raw `pg` error has it as `code`.
  const sqlState = e.meta?.driverAdapterError?.cause?.originalCode ??
    (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined)
  if (typeof sqlState === 'string') {
    const kind = sqlStateKind(sqlState)
    if (kind) return kind
  }
  if (e.name === 'PrismaClientKnownRequestError' && typeof e.code === 'string') {
    if (conflictCodes.has(e.code)) return 'conflict'
    if (invalidCodes.has(e.code)) return 'invalid'
  }
  // Prisma refusing the arguments means the client's data does not fit the model (e.g. a required field missing).
  if (e.name === 'PrismaClientValidationError') return 'invalid'
  // A schema library's parse error thrown from a validate function (zod, valibot, ...).
  if (e.name === 'ZodError' || e.name === '$ZodError' || e.name === 'ValiError') return 'invalid'
  return 'error'
}

function sqlStateKind(code: string): WriterErrorKind | undefined {
  if (code === '23505' || code === '23503' || code === '23P01' || code === '40001' || code === '40P01') return 'conflict'
  if (code.startsWith('22') || code === '23502' || code === '23514') return 'invalid'
  return undefined
}

// P2002 unique, P2003 foreign key, P2025 record to update/delete not found, P2034 write conflict / deadlock.
const conflictCodes = new Set(['P2002', 'P2003', 'P2025', 'P2034'])
// Value too long, invalid value, data validation, null constraint, missing value, out of range, bad column data, ...
const invalidCodes = new Set(['P2000', 'P2005', 'P2006', 'P2007', 'P2011', 'P2012', 'P2019', 'P2020', 'P2023', 'P2039'])

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    // Prisma's messages start with an invocation excerpt; the last line is the actual reason.
    const lines = error.message.trim().split('\n').filter((l) => l.trim() !== '')
    return lines.at(-1)?.trim() ?? error.name
  }
  return typeof error === 'string' ? error : 'rejected'
}
