// The one error type the write path throws for anything a client sent or a hook rejected. It names the
// pipeline step and the operation, and says what kind of failure it is, which the tRPC layer maps to a code.
// Its message is sent to clients, so a database or Prisma error's text never becomes its reason: the
// reason is our own sentence for the SQLSTATE or Prisma code (the original stays the `cause`).
import { describeDatabaseError } from '../source/database-errors.js'
import { sqlStateOf } from '../source/errors.js'

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
 * - `timeout`: the batch took longer than the transaction's `timeout` (Prisma's default: 5 s); nothing was written
 * - `error`: a hook threw something else (a bug, or an app error such as a TRPCError carried as `cause`)
 */
export type WriterErrorKind = 'invalid' | 'forbidden' | 'not_found' | 'conflict' | 'timeout' | 'error'

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
  const e = error as { name?: unknown; code?: unknown }
  // Prisma over a driver adapter keeps the SQLSTATE; a raw `pg` error has it as `code`.
  const sqlState = sqlStateOf(error)
  if (e.code === 'P2028') return 'timeout'
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
  const database = describeDatabaseError(error) ?? describePrismaError(error)
  if (database) return database
  if (error instanceof Error) {
    // Prisma's messages start with an invocation excerpt; the last line is the actual reason.
    const lines = error.message.trim().split('\n').filter((l) => l.trim() !== '')
    return lines.at(-1)?.trim() ?? error.name
  }
  return typeof error === 'string' ? error : 'rejected'
}

const prismaCodes: Record<string, string> = {
  P2000: 'a value is too long for its column',
  P2002: 'a row with the same unique key already exists',
  P2003: 'a referenced row does not exist, or the row is still referenced (foreign key)',
  P2011: 'a required value is missing (NOT NULL)',
  P2012: 'a required value is missing',
  P2025: 'the row to write was not found',
  P2028: 'the batch took longer than the transaction allows (transaction.timeout; Prisma\'s default is 5 s), so nothing was written',
  P2034: 'the write conflicted with a concurrent one (write conflict or deadlock); retry it',
}

/** Our sentence for a Prisma error: its code's, or for arguments Prisma refused, the argument it names. */
function describePrismaError(error: unknown): string | undefined {
  const e = error as { name?: unknown; code?: unknown; message?: unknown; meta?: { target?: unknown; field_name?: unknown } }
  if (e === null || typeof e !== 'object') return undefined
  if (e.name === 'PrismaClientKnownRequestError' && typeof e.code === 'string') {
    const target = Array.isArray(e.meta?.target) ? ` (${e.meta.target.join(', ')})` : typeof e.meta?.field_name === 'string' ? ` (${e.meta.field_name})` : ''
    return `${prismaCodes[e.code] ?? 'the database refused the write'}${target} [${e.code}]`
  }
  if (e.name === 'PrismaClientValidationError') {
    const argument = typeof e.message === 'string' ? /Argument `([^`]+)`|Unknown argument `([^`]+)`/.exec(e.message) : null
    const name = argument?.[1] ?? argument?.[2]
    return `the data does not fit the model${name ? ` (argument "${name}")` : ''}: a field is missing, unknown or of the wrong type`
  }
  if (typeof e.name === 'string' && e.name.startsWith('PrismaClient')) return 'the database client failed'
  return undefined
}
