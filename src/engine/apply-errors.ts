// A transaction the engine failed to route must not vanish (an unhandled rejection would stop the stream
// and lose it) nor leave its shapes half-updated: every shape of every table it changed is rotated, so
// their readers refetch a snapshot that contains it, and the stream goes on (the transaction is then
// safely accounted for and can be acknowledged).
import type { Transaction } from './transaction.js'

export async function applyGuarded(
  tx: Transaction,
  apply: (tx: Transaction) => Promise<void> | void,
  rotateTable: (table: { namespace: string; table: string }) => void,
  log: (message: string) => void,
): Promise<void> {
  try {
    await apply(tx)
  } catch (error) {
    const tables = new Map<string, { namespace: string; table: string }>()
    for (const change of tx.changes) {
      for (const relation of change.kind === 'truncate' ? change.relations : [change.relation]) {
        tables.set(`${relation.namespace}.${relation.table}`, { namespace: relation.namespace, table: relation.table })
      }
    }
    log(`could not apply transaction ${tx.xid} (${(error as Error)?.message ?? String(error)}); rotating the shapes of ` +
      `${[...tables.keys()].join(', ') || 'no table'} so their readers refetch`)
    for (const table of tables.values()) rotateTable(table)
  }
}
