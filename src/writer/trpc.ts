// tRPC glue: a mutation resolver that builds a Writer per request and applies the procedure's input,
// and the WriterError → TRPCError mapping.
//
//   const todoMutation = writerMutation({ prisma, format: 'tanstack' })
//   mutate: t.procedure.input(tanstackBatch).mutation(todoMutation(({ ctx }) =>
//     new Writer().allow(prisma.todo, { check: (op) => op.data.ownerId === ctx.userId })))
import { TRPCError } from '@trpc/server'
import { WriterError, type WriterErrorKind } from './errors.js'
import type { FormatOption } from './formats/format.js'
import type { Awaitable } from './hooks.js'
import type { PrismaClientLike, TransactionOptions } from './prisma.js'
import type { Writer } from './writer.js'

export interface WriterMutationOptions<TCtx> {
  /** The client to write with, or a function choosing it per request (e.g. an `$extends`ed client). */
  prisma: PrismaClientLike | ((opts: { ctx: TCtx }) => PrismaClientLike)
  /** Format of the procedure's input; default `'tanstack'`. Pair it with the matching input schema. */
  format?: FormatOption
  transaction?: TransactionOptions
  /**
   * Larger batches are refused (BAD_REQUEST) before the transaction; default 1,000 operations, or the
   * `batchOperations` limit for `sync.mutation`.
   */
  maxOperations?: number
  /** Batches longer than this as JSON text are refused the same way; default 1 MiB, or `batchBytes` for `sync.mutation`. */
  maxBytes?: number
  /** Where batch ids are recorded (default table `trpc_sync_batches`); `false` ignores them. */
  exactlyOnce?: { table?: string } | false
}

/** The options a tRPC resolver receives (the part used here). */
export interface ResolverOptions<TCtx, TInput> {
  ctx: TCtx
  input: TInput
}

export type WriterMutationResolver<TCtx, TInput> = (opts: ResolverOptions<TCtx, TInput>) => Promise<{ txid: number }>

/**
 * `writerMutation(options)(build)` is a tRPC v11 mutation resolver: per call it builds a Writer with
 * `build({ ctx, input })`, applies `input` and resolves to `{ txid }`. A WriterError becomes a
 * TRPCError (see `toTRPCError`); other errors pass through.
 */
export function writerMutation<TCtx = unknown>(options: WriterMutationOptions<TCtx>) {
  return <C extends TCtx, I>(
    build: (opts: ResolverOptions<C, I>) => Awaitable<Writer<any>>,
  ): WriterMutationResolver<C, I> => async (opts) => {
    const writer = await build(opts)
    const prisma = typeof options.prisma === 'function' ? options.prisma(opts) : options.prisma
    try {
      const { txid } = await writer.apply(opts.input, prisma, {
        format: options.format, transaction: options.transaction, maxOperations: options.maxOperations, maxBytes: options.maxBytes, exactlyOnce: options.exactlyOnce,
      })
      return { txid }
    } catch (error) {
      throw error instanceof WriterError ? toTRPCError(error) : error
    }
  }
}

const codes: Record<Exclude<WriterErrorKind, 'error'>, TRPCError['code']> = {
  invalid: 'BAD_REQUEST',
  forbidden: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  conflict: 'CONFLICT',
  timeout: 'TIMEOUT',
}

/**
 * invalid → BAD_REQUEST, forbidden → FORBIDDEN, not_found → NOT_FOUND, conflict → CONFLICT, timeout →
 * TIMEOUT; a hook's own error keeps its TRPCError code (and message) if it threw one, else it is an
 * INTERNAL_SERVER_ERROR whose message names the step but not what was thrown (that stays on the server,
 * in the cause). The WriterError is the cause.
 */
export function toTRPCError(error: WriterError): TRPCError {
  if (error.kind !== 'error') return new TRPCError({ code: codes[error.kind], message: error.message, cause: error })
  if (error.cause instanceof TRPCError) return new TRPCError({ code: error.cause.code, message: error.message, cause: error })
  const where = error.operationIndex === undefined ? 'batch' : `operation ${error.operationIndex}`
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `${error.step} failed for ${where}: internal error`, cause: error })
}
