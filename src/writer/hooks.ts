// The callbacks an app registers with `Writer.allow`, typed by the model's row and the transaction client.
import type { Operation, OperationType, TableName } from './operation.js'

export type Awaitable<T> = T | PromiseLike<T>

/** `true` accepts; `false` or a reason rejects. Anything else (e.g. a forgotten return) rejects too. */
export type Verdict = boolean | string

/** A Standard Schema (zod 3.24+ / 4, valibot, arktype, ...): https://standardschema.dev */
export interface StandardSchema {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => StandardResult | Promise<StandardResult>
  }
}
export type StandardResult =
  | { readonly value: unknown; readonly issues?: undefined }
  | { readonly issues: readonly StandardIssue[] }
export interface StandardIssue {
  readonly message: string
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined
}

export interface LoadContext<Row, Tx> {
  tx: Tx
  operation: Operation<Row>
}

export interface AuthorizeContext<Row, Tx> extends LoadContext<Row, Tx> {
  /**
   * Which row `authorize` is looking at: `'stored'`, the row in the database (updates and deletes; loaded
   * in the transaction and locked until it ends), or `'written'`, the row as it will be written (inserts:
   * the new values; updates: the stored row with the changes applied).
   */
  as: 'stored' | 'written'
  /** The row as stored; `null` for inserts. */
  stored: Row | null
}

export interface ValidateContext<Row, Tx> extends LoadContext<Row, Tx> {
  /** The row as loaded before the write; `null` for inserts. */
  original: Row | null
}

export interface ApplyContext<Row, Tx, R = Partial<Row>> extends ValidateContext<Row, Tx> {
  /**
   * preApply: the row as validated (insert: the new values; update: original + changes; delete: the
   * original). postApply: the row as written, as Prisma returned it (delete: the deleted row).
   */
  row: R
}

/**
 * A schema the row must satisfy, or a function deciding. The row is the new values for inserts,
 * the loaded row merged with the changes for updates, and the loaded row for deletes.
 */
export type Validator<R, Row, Tx> = StandardSchema | ((row: R, ctx: ValidateContext<Row, Tx>) => Awaitable<Verdict>)

export interface OperationHooks<R, Row, Tx> {
  validate?: Validator<R, Row, Tx>
  preApply?: (ctx: ApplyContext<Row, Tx, R>) => Awaitable<unknown>
  postApply?: (ctx: ApplyContext<Row, Tx, Row>) => Awaitable<unknown>
}

export interface AllowOptions<Row, Tx> {
  /** The table clients name for this model, if not its own (see tables.ts for matching rules). */
  table?: TableName
  /** Operation types clients may send; others reject the batch (FORBIDDEN). Default: all. */
  accept?: readonly OperationType[]
  /**
   * Runs on every operation before any database access, on what the client sent: for updates and
   * deletes `operation.data` is the client's own claim of the row (TanStack DB's `original`), so
   * `check` must not authorize by it. Use it to refuse malformed or out-of-bounds requests early;
   * authorize with `authorize` (or a scoped `load`). Keep it free of I/O.
   */
  check?: (operation: Operation<Row>) => Awaitable<Verdict>
  /**
   * Authorizes against what is stored and what will be written, in the transaction: called with the
   * stored row of every update and delete (loaded and locked `FOR UPDATE`, so no concurrent writer can
   * change it before the write) and with the row as it will be written for every insert and update
   * (so a row cannot be moved to another owner). Return `true` to accept; `false` or a reason rejects
   * the batch (FORBIDDEN). E.g. `authorize: (row) => row.ownerId === ctx.userId`.
   */
  authorize?: (row: Partial<Row>, ctx: AuthorizeContext<Row, Tx>) => Awaitable<Verdict>
  /** Runs once per batch, in the transaction, before the first operation on this model. */
  beforeAll?: (tx: Tx) => Awaitable<unknown>
  /**
   * Loads the row an update or delete applies to, from the operation's `data` (the client's original
   * row). Default: by primary key through `tx`, so it sees rows written earlier in the same batch.
   * Return `null` when the client may not see the row: the batch fails with NOT_FOUND (Phoenix.Sync's
   * pattern: `load: (data, { tx }) => tx.todo.findFirst({ where: { id: data.id, ownerId: ctx.userId } })`).
   * The row is locked by the operation's primary key first; a row with another key is refused.
   */
  load?: (data: Partial<Row>, ctx: LoadContext<Row, Tx>) => Awaitable<Row | null | undefined>
  /**
   * `'reject'`: an update is CONFLICT when a column it changes no longer holds, in the stored row, the
   * value of the client's `original` (a concurrent writer got there first); the original must carry
   * those columns (TanStack DB's does). Default `'last-writer-wins'`: the changed columns are written.
   */
  onConflict?: 'reject' | 'last-writer-wins'
  validate?: Validator<Partial<Row>, Row, Tx>
  /** Runs in the transaction before the write; throw to reject the batch. The result is ignored. */
  preApply?: (ctx: ApplyContext<Row, Tx>) => Awaitable<unknown>
  /** Runs in the transaction after the write, with the written row; throw to reject the batch. The result is ignored. */
  postApply?: (ctx: ApplyContext<Row, Tx, Row>) => Awaitable<unknown>
  /** Per-operation overrides of validate / preApply / postApply. */
  insert?: OperationHooks<Partial<Row>, Row, Tx>
  update?: OperationHooks<Row, Row, Tx>
  delete?: OperationHooks<Row, Row, Tx>
}
