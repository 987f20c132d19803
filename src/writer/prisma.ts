// The little of Prisma the writer relies on, described structurally so that any generated client
// (and any `$extends` of it) fits without importing the app's generated code.
import type { ModelMeta } from '../shape/model.js'
import { WriterError } from './errors.js'

export interface TransactionOptions {
  maxWait?: number
  timeout?: number
  isolationLevel?: 'ReadUncommitted' | 'ReadCommitted' | 'RepeatableRead' | 'Serializable'
}

/** A Prisma client: anything with an interactive `$transaction`. */
export interface PrismaClientLike {
  $transaction<R>(fn: (tx: any) => Promise<R>, options?: TransactionOptions): Promise<R>
}

/** The transaction client of a Prisma client type: `TransactionOf<typeof prisma>`. */
export type TransactionOf<P> = P extends {
  $transaction<R>(fn: (tx: infer Tx) => Promise<R>, options?: any): Promise<R>
} ? Tx : never

/** What hooks receive as `tx` when the Writer is not given the app's transaction type. */
export type AnyTransaction = any

/** A row of the model behind a delegate such as `prisma.todo`, as `findUnique` returns it. */
export type RowOf<D> = D extends { [K: symbol]: { types: { payload: { scalars: infer R } } } }
  ? R
  : Record<string, unknown>

interface Delegate {
  findUnique(args: { where: object }): Promise<unknown>
  create(args: { data: object }): Promise<unknown>
  update(args: { where: object; data: object }): Promise<unknown>
  delete(args: { where: object }): Promise<unknown>
}

/** The model's delegate on a transaction client (`tx.todo` for model `Todo`). */
export function delegateOf(tx: unknown, model: ModelMeta): Delegate {
  const name = model.name.charAt(0).toLowerCase() + model.name.slice(1)
  const delegate = (tx as Record<string, unknown>)[name]
  if (typeof delegate !== 'object' || delegate === null) {
    throw new Error(`the transaction client has no delegate "${name}" for model ${model.name}`)
  }
  return delegate as Delegate
}

/** Throws a `primaryKey` WriterError unless `data` has every primary-key field (non-null). */
export function requirePrimaryKey(model: ModelMeta, data: Record<string, unknown>, index: number): void {
  const missing = model.primaryKey.filter((f) => data[f] === undefined || data[f] === null)
  if (missing.length === 0) return
  throw new WriterError({
    step: 'primaryKey',
    kind: 'invalid',
    operationIndex: index,
    reason: `missing primary key ${missing.map((f) => `"${f}"`).join(', ')} of ${model.name}`,
  })
}

/**
 * A `WhereUniqueInput` for the row's primary key. A composite key uses Prisma's compound field,
 * named by joining the key fields with `_` (Prisma's default; `@@id(name: ...)` is not supported yet).
 */
export function primaryKeyWhere(model: ModelMeta, data: Record<string, unknown>, index: number): Record<string, unknown> {
  requirePrimaryKey(model, data, index)
  const key = Object.fromEntries(model.primaryKey.map((f) => [f, data[f]]))
  return model.primaryKey.length === 1 ? key : { [model.primaryKey.join('_')]: key }
}
