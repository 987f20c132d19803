// `transact`: for apps that apply each operation themselves. Parses the batch, then calls `fn` once per
// operation, in order, inside one interactive transaction, and returns its txid. Operations are as the
// format produced them (keys and values as sent, no model matching); throwing from `fn` rolls back.
// A batch with an id is applied at most once, as with the Writer.
import { toWriterError } from './errors.js'
import { parseBatch } from './formats/format.js'
import type { Awaitable } from './hooks.js'
import type { OperationInput } from './operation.js'
import type { PrismaClientLike, TransactionOf } from './prisma.js'
import { currentTxid } from './txid.js'
import { failedTransaction, type ApplyOptions } from './writer.js'
import { batchRecord, recordBatch } from './batches.js'

export interface TransactOperation extends OperationInput {
  /** Position in the batch, from 0. */
  index: number
}

export async function transact<P extends PrismaClientLike>(
  batch: unknown,
  prisma: P,
  fn: (operation: TransactOperation, tx: TransactionOf<P>) => Awaitable<unknown>,
  options: ApplyOptions = {},
): Promise<{ txid: number }> {
  const { id, operations } = await parseBatch(batch, options.format, options.maxOperations, options.maxBytes)
  const record = batchRecord(id, operations, options.exactlyOnce)
  return prisma.$transaction(async (tx) => {
    let txid: number
    if (record) {
      const recorded = await recordBatch(tx, record.table, record.id, record.fingerprint)
      if (recorded.replayed) return { txid: recorded.txid }
      txid = recorded.txid
    } else {
      txid = await currentTxid(tx)
    }
    for (const [index, operation] of operations.entries()) {
      try {
        await fn({ ...operation, index }, tx)
      } catch (error) {
        throw toWriterError(error, 'write', index)
      }
    }
    return { txid }
  }, options.transaction).catch(failedTransaction)
}
