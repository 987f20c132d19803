// The Writer: which models clients may write and how each write is authorized and validated; `apply`
// runs a batch through the pipeline in one interactive transaction and returns its txid.
//
//   parse → accept + check (every operation, before any database access) → BEGIN → txid (and, for a batch
//   with an id, record it: an id applied before ends here with that first txid, see batches.ts) →
//   per operation: beforeAll (once per allowed model) → load (row locked) → authorize → conflict → validate → primary key →
//   preApply → write → postApply
//   → COMMIT. Any failure rolls the whole batch back and throws a WriterError.
import { modelOf } from '../shape/model.js'
import { toWriterError } from './errors.js'
import { parseBatch, type FormatOption } from './formats/format.js'
import type { AllowOptions } from './hooks.js'
import { operationTypes } from './operation.js'
import { applyOperation, type AppliedChange } from './pipeline/apply.js'
import { checkOperation } from './pipeline/check.js'
import { prepareOperation, type Entry } from './pipeline/prepare.js'
import type { AnyTransaction, PrismaClientLike, RowOf, TransactionOptions } from './prisma.js'
import { sameTarget, tableMatch } from './tables.js'
import { currentTxid } from './txid.js'
import { batchRecord, recordBatch } from './batches.js'

export interface ApplyOptions {
  /** How the batch is encoded: `'tanstack'` (default), `'json'`, a Format or a parser function. */
  format?: FormatOption
  /** Passed to `prisma.$transaction` (Prisma's default timeout is 5 s). */
  transaction?: TransactionOptions
  /** Larger batches are refused (BAD_REQUEST) before the transaction; default 1,000 operations (limit `batchOperations`). */
  maxOperations?: number
  /** Batches longer than this as JSON text are refused the same way; default 1 MiB (limit `batchBytes`). */
  maxBytes?: number
  /**
   * Where a batch's id is recorded, so that it applies at most once (default table `trpc_sync_batches`,
   * see `createWriterTablesSql`); `false` ignores batch ids.
   */
  exactlyOnce?: { table?: string } | false
}

/** A transaction that failed outside any one operation (it timed out, or COMMIT failed): a WriterError of the batch. */
export function failedTransaction(error: unknown): never {
  throw toWriterError(error, 'write', undefined)
}

export interface ApplyResult {
  /** The Postgres transaction id that wrote the batch; the same id arrives with its changes in shape streams. */
  txid: number
  /** One entry per operation, in batch order; empty for a replay. */
  changes: AppliedChange[]
  /** The batch's id was applied before: nothing was applied now, and `txid` is the first commit's. */
  replayed: boolean
}

/**
 * `Tx` is the type hooks see as `tx`; give the app's, e.g. `new Writer<Prisma.TransactionClient>()`
 * or `new Writer<TransactionOf<typeof prisma>>()`. Writers are immutable: `allow` returns a new one,
 * so a shared base writer can be extended per request.
 */
export class Writer<Tx = AnyTransaction> {
  #entries: readonly Entry[] = []

  /** Lets clients write to the model of `delegate` (e.g. `prisma.todo`), under the given rules. */
  allow<D extends object>(delegate: D, options: AllowOptions<RowOf<D>, Tx> = {}): Writer<Tx> {
    const model = modelOf(delegate)
    if (model.primaryKey.length === 0) throw new Error(`Writer.allow: model ${model.name} has no primary key`)
    for (const type of options.accept ?? []) {
      if (!operationTypes.includes(type)) throw new Error(`Writer.allow: unknown operation type ${JSON.stringify(type)} in accept`)
    }
    const match = tableMatch(model, options.table)
    const taken = this.#entries.find((e) => sameTarget(e.match, match))
    if (taken) throw new Error(`Writer.allow: table ${match.table} is already allowed for ${taken.model.name}`)
    if (options.onConflict !== undefined && options.onConflict !== 'reject' && options.onConflict !== 'last-writer-wins') {
      throw new Error(`Writer.allow: onConflict must be 'reject' or 'last-writer-wins', not ${JSON.stringify(options.onConflict)}`)
    }
    const next = new Writer<Tx>()
    next.#entries = [...this.#entries, { model, match, options: options as unknown as Entry['options'] }]
    return next
  }

  /** Applies a client batch atomically. Throws a WriterError for anything the client sent or a hook rejected. */
  async apply(batch: unknown, prisma: PrismaClientLike, options: ApplyOptions = {}): Promise<ApplyResult> {
    const { id, operations } = await parseBatch(batch, options.format, options.maxOperations, options.maxBytes)
    const prepared = operations.map((input, index) => prepareOperation(this.#entries, input, index))
    for (const p of prepared) await checkOperation(p)
    const record = batchRecord(id, operations, options.exactlyOnce)
    return prisma.$transaction(async (tx) => {
      let txid: number
      if (record) {
        const recorded = await recordBatch(tx, record.table, record.id, record.fingerprint)
        if (recorded.replayed) return { txid: recorded.txid, changes: [], replayed: true }
        txid = recorded.txid
      } else {
        txid = await currentTxid(tx)
      }
      const beforeAllDone = new Set<Entry>()
      const changes: AppliedChange[] = []
      for (const p of prepared) changes.push(await applyOperation(p, tx, beforeAllDone))
      return { txid, changes, replayed: false }
    }, options.transaction).catch(failedTransaction)
  }
}
