// The id of the current transaction, as Electric (and the engine) put it on every change: the 32-bit
// xid, i.e. `pg_current_xact_id()` (which also assigns one if none is yet) without its epoch.
export interface RawQueryClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>
}

export async function currentTxid(tx: RawQueryClient): Promise<number> {
  const rows = await tx.$queryRawUnsafe<{ txid: string }[]>('SELECT pg_current_xact_id()::xid::text AS txid')
  const txid = Number(rows[0]?.txid)
  if (!Number.isSafeInteger(txid)) throw new Error('could not read the transaction id')
  return txid
}
