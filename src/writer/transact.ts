// `transact`: for apps that apply each operation themselves. Parses the batch, then calls `fn` once per
// operation, in order, inside one interactive transaction, and returns its txid. Operations are as the
// format produced them (keys and values as sent, no model matching); throwing from `fn` rolls back.
import { toWriterError } from './errors.js'
import { parseBatch } from './formats/format.js'
import type { Awaitable } from './hooks.js'
import type { OperationInput } from './operation.js'
import type { PrismaClientLike, TransactionOf } from './prisma.js'
import { currentTxid } from './txid.js'
import type { ApplyOptions } from './writer.js'

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
  const operations = await parseBatch(batch, options.format, options.maxOperations)
  return prisma.$transaction(async (tx) => {
    const txid = await currentTxid(tx)
    for (const [index, operation] of operations.entries()) {
      try {
        await fn({ ...operation, index }, tx)
      } catch (error) {
        throw toWriterError(error, 'write', index)
      }
    }
    return { txid }
  }, options.transaction)
}
