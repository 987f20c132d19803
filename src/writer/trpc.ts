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
  /** Larger batches are refused (BAD_REQUEST) before the transaction; default 1,000 operations. */
  maxOperations?: number
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
      const { txid } = await writer.apply(opts.input, prisma, { format: options.format, transaction: options.transaction, maxOperations: options.maxOperations, exactlyOnce: options.exactlyOnce })
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
}

/**
 * invalid → BAD_REQUEST, forbidden → FORBIDDEN, not_found → NOT_FOUND, conflict → CONFLICT; a hook's
 * own error keeps its TRPCError code if it threw one, else INTERNAL_SERVER_ERROR. The WriterError is the cause.
 */
export function toTRPCError(error: WriterError): TRPCError {
  const code = error.kind === 'error'
    ? error.cause instanceof TRPCError ? error.cause.code : 'INTERNAL_SERVER_ERROR'
    : codes[error.kind]
  return new TRPCError({ code, message: error.message, cause: error })
}
