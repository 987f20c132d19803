// A format turns a client's batch into format-neutral operations. Each built-in format carries a zod
// schema of its batch, which is also what a tRPC procedure uses as `.input(...)`.
import type { z } from 'zod'
import { WriterError, toWriterError, type WriterIssue } from '../errors.js'
import { operationInput, type OperationInput } from '../operation.js'
import { tanstackFormat } from './tanstack.js'
import { jsonFormat } from './json.js'
import { jsonLongerThan } from './size.js'
import { defaultLimits } from '../../limits/index.js'

export interface Format<Batch = any> {
  readonly name: string
  readonly schema: z.ZodType<Batch>
  toOperations(batch: Batch): OperationInput[]
  /** The batch's id, when it carries one: applied at most once (see batches.ts). */
  batchId?(batch: Batch): string | undefined
}

/** A parsed batch: its operations, and its id if it has one. */
export interface ParsedBatch {
  id: string | undefined
  operations: OperationInput[]
}

/** A custom parser: the batch as received → operations. Throwing rejects the batch as unparsable. */
export type Parser = (batch: unknown) => OperationInput[] | Promise<OperationInput[]>

/** `'tanstack'` (the default), `'json'`, a Format, or a custom parser function. */
export type FormatOption = 'tanstack' | 'json' | Format | Parser

/** Default `maxOperations` (the `batchOperations` limit): a batch is one user's pending writes, not a bulk import. */
export const defaultMaxOperations = defaultLimits.batchOperations
/** Default `maxBytes` (the `batchBytes` limit): bytes of the batch as JSON text. */
export const defaultMaxBytes = defaultLimits.batchBytes

/** Parses a batch with the given format; never throws anything but a `parse` WriterError. */
export async function parseBatch(
  batch: unknown, format: FormatOption = 'tanstack', maxOperations = defaultMaxOperations, maxBytes = defaultMaxBytes,
): Promise<ParsedBatch> {
  // Checked before the format's schema, so an oversized batch costs no per-operation parsing.
  const size = Array.isArray(batch) ? batch.length
    : Array.isArray((batch as { operations?: unknown } | null)?.operations) ? (batch as { operations: unknown[] }).operations.length
    : 0
  if (size > maxOperations) throw tooLarge(size, maxOperations)
  if (jsonLongerThan(batch, maxBytes)) throw invalid(`the batch is larger than ${maxBytes} bytes as JSON (limit batchBytes: ${maxBytes})`)
  let operations: unknown
  if (typeof format === 'function') {
    try {
      operations = await format(batch)
    } catch (error) {
      const e = toWriterError(error, 'parse', undefined)
      throw e.kind === 'error' ? new WriterError({ step: 'parse', kind: 'invalid', reason: e.reason, cause: error }) : e
    }
    if (!Array.isArray(operations)) throw invalid('the parser did not return an array of operations')
    if (operations.length > maxOperations) throw tooLarge(operations.length, maxOperations)
    return { id: undefined, operations: requireOperations(operations.map((op, index) => {
      const parsed = operationInput.safeParse(op)
      if (!parsed.success) throw invalid(`the parser returned an invalid operation: ${describe(parsed.error)}`, index, issuesOf(parsed.error))
      return parsed.data
    })) }
  }
  const f = format === 'tanstack' ? tanstackFormat : format === 'json' ? jsonFormat : format
  const parsed = f.schema.safeParse(batch)
  if (!parsed.success) {
    const issues = issuesOf(parsed.error)
    // The first number in an issue's path is the operation's position (`[2, 'type']`, `['operations', 2]`).
    const index = issues[0]?.path.find((p): p is number => typeof p === 'number')
    throw invalid(`not a ${f.name} batch: ${describe(parsed.error)}`, index, issues)
  }
  return { id: f.batchId?.(parsed.data), operations: requireOperations(f.toOperations(parsed.data)) }
}

function requireOperations(operations: OperationInput[]): OperationInput[] {
  if (operations.length === 0) throw invalid('the batch has no operations')
  return operations
}

function tooLarge(size: number, maxOperations: number): WriterError {
  return invalid(`the batch has ${size} operations, more than the ${maxOperations} allowed (limit batchOperations: ${maxOperations})`)
}

function invalid(reason: string, operationIndex?: number, issues?: WriterIssue[]): WriterError {
  return new WriterError({ step: 'parse', kind: 'invalid', operationIndex, reason, issues })
}

function issuesOf(error: z.ZodError): WriterIssue[] {
  return error.issues.map((i) => ({ path: i.path, message: i.message }))
}

function describe(error: z.ZodError): string {
  return error.issues.slice(0, 3).map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')
}
