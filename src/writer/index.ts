// Public API of the write path.
export { Writer, type ApplyOptions, type ApplyResult } from './writer.js'
export type { AppliedChange } from './pipeline/apply.js'
export type {
  AllowOptions, ApplyContext, AuthorizeContext, LoadContext, OperationHooks, StandardSchema, ValidateContext, Validator, Verdict,
} from './hooks.js'
export type { Operation, OperationInput, OperationType, TableName } from './operation.js'
export { WriterError, type WriterErrorKind, type WriterIssue, type WriterStep } from './errors.js'
export type { Format, FormatOption, Parser } from './formats/format.js'
export { tanstackBatch, tanstackMutation, tanstackFormat, type TanstackBatch, type TanstackMutation } from './formats/tanstack.js'
export { jsonBatch, jsonOperation, jsonFormat, type JsonBatch, type JsonOperation } from './formats/json.js'
export { transact, type TransactOperation } from './transact.js'
export { writerMutation, toTRPCError, type WriterMutationOptions, type WriterMutationResolver, type ResolverOptions } from './trpc.js'
export { currentTxid } from './txid.js'
export { createWriterTablesSql, ensureWriterTables, writerBatchesTable } from './batches.js'
export type { PrismaClientLike, RowOf, TransactionOf, TransactionOptions } from './prisma.js'
