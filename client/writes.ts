// Sending a write batch so that its outcome is never a guess. A batch carries an id (TanStack DB's
// mutationId on its first mutation, or `id` in the JSON format) and the server's Writer applies an id at
// most once, so a batch whose answer was lost (the socket closed after sending it) is sent again with
// the same id until the server answers: confirmed with the txid it committed under, or rejected with the
// server's reason. Errors the server did not send ("Unknown error" from a closed socket) never surface
// as a rejection.
import { TRPCClientError } from '@trpc/client'

/** The server answered and refused the batch: nothing of it was written. */
export class BatchRejectedError extends Error {
  override readonly name = 'BatchRejectedError'
  constructor(
    /** The tRPC error code, e.g. FORBIDDEN, BAD_REQUEST, CONFLICT. */
    readonly code: string,
    /** The server's reason, e.g. "authorize failed for operation 0: not your todo". */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options)
  }
}

/** The server's answer never arrived and the batch could not be sent again (no id, client closed, attempts spent). */
export class BatchOutcomeUnknownError extends Error {
  override readonly name = 'BatchOutcomeUnknownError'
  constructor(why: string, options?: { cause?: unknown }) {
    super(`the server's answer to the write was lost (${why}): it may or may not have been applied`, options)
  }
}

/** Whether an error from a mutation call came from the connection rather than from the server's answer. */
export function isOutcomeUnknown(error: unknown): boolean {
  return error instanceof TRPCClientError && error.shape == null
}

/** The id a batch carries: the first TanStack mutation's `mutationId`, or a JSON batch's `id`. */
export function batchIdOf(batch: unknown): string | undefined {
  const id = Array.isArray(batch) ? (batch[0] as { mutationId?: unknown } | undefined)?.mutationId
    : typeof batch === 'object' && batch !== null ? (batch as { id?: unknown }).id
    : undefined
  return typeof id === 'string' ? id : undefined
}

/** The batch with an id (a new UUID on its first TanStack mutation, or as a JSON batch's `id`) unless it has one. */
export function withBatchId<B>(batch: B): B {
  if (batchIdOf(batch) !== undefined) return batch
  if (Array.isArray(batch) && batch.length > 0) return [{ ...batch[0], mutationId: crypto.randomUUID() }, ...batch.slice(1)] as B
  if (typeof batch === 'object' && batch !== null && !Array.isArray(batch)) return { ...batch, id: crypto.randomUUID() }
  return batch
}

export interface RetryOptions {
  /** Sends of one batch at most before giving up with BatchOutcomeUnknownError (default 30). */
  maxAttempts?: number
  /** Wait before the n-th retry, in ms (default 100 · 2ⁿ, at most 5 s). */
  retryDelayMs?: (attempt: number) => number
  /** Stops retrying (rejects with BatchOutcomeUnknownError). */
  signal?: AbortSignal
}

export const defaultRetryDelay = (attempt: number): number => Math.min(100 * 2 ** attempt, 5_000)

/**
 * Runs `send` (one attempt at sending `batch`) until the server answers: resolves with its result, or
 * rejects with BatchRejectedError (the server's code and reason). A lost answer is retried when the
 * batch has an id, else it is BatchOutcomeUnknownError.
 */
export async function retryUnknownOutcome<R>(batch: unknown, send: () => PromiseLike<R>, options: RetryOptions = {}): Promise<R> {
  const { maxAttempts = 30, retryDelayMs = defaultRetryDelay, signal } = options
  const id = batchIdOf(batch)
  for (let attempt = 0; ; attempt++) {
    try {
      return await send()
    } catch (error) {
      // The client's retry link (retry-link.ts) already gave up: say why.
      if (error instanceof TRPCClientError && error.cause instanceof BatchOutcomeUnknownError) throw error.cause
      if (!isOutcomeUnknown(error)) throw rejection(error)
      if (id === undefined) throw new BatchOutcomeUnknownError('the batch has no id, so it is not sent again', { cause: error })
      if (signal?.aborted) throw new BatchOutcomeUnknownError('stopped', { cause: error })
      if (attempt + 1 >= maxAttempts) throw new BatchOutcomeUnknownError(`${maxAttempts} attempts`, { cause: error })
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempt)))
    }
  }
}

/** A mutation procedure of the client proxy, such as `trpc.todos.mutate`. */
export interface BatchProcedure<B> {
  mutate(batch: B): PromiseLike<{ txid: number }>
}

/**
 * Sends `batch` through `procedure` (adding an id if it has none) until the server answers; resolves to
 * `{ txid }`, rejects with BatchRejectedError or, if the answer cannot be learnt, BatchOutcomeUnknownError.
 */
export function sendBatch<B>(procedure: BatchProcedure<B>, batch: B, options?: RetryOptions): Promise<{ txid: number }> {
  const sent = withBatchId(batch)
  return retryUnknownOutcome(sent, () => procedure.mutate(sent), options)
}

function rejection(error: unknown): unknown {
  if (error instanceof TRPCClientError && error.shape != null) {
    const code = (error.data as { code?: unknown } | undefined)?.code
    return new BatchRejectedError(typeof code === 'string' ? code : 'ERROR', error.message, { cause: error })
  }
  return error
}
