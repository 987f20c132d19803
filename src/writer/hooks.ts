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
  /** Runs on every operation before any database access. Keep it free of I/O. */
  check?: (operation: Operation<Row>) => Awaitable<Verdict>
  /** Runs once per batch, in the transaction, before the first operation on this model. */
  beforeAll?: (tx: Tx) => Awaitable<unknown>
  /**
   * Loads the row an update or delete applies to, from the operation's `data` (the client's original
   * row). Default: by primary key through `tx`, so it sees rows written earlier in the same batch.
   * Return `null` when the client may not see the row: the batch fails with NOT_FOUND.
   */
  load?: (data: Partial<Row>, ctx: LoadContext<Row, Tx>) => Awaitable<Row | null | undefined>
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
