// What the replication client hands the engine: whole transactions, in commit order.

/** A row as Postgres text values keyed by column name; `null` is SQL NULL. */
export type TextRow = Record<string, string | null>

export interface RelationInfo {
  oid: number
  namespace: string
  table: string
  /** Column names with their type oids, in table order, as the Relation message gave them. */
  columns: { name: string; typeOid: number; typeMod: number }[]
}

export type Change =
  | { kind: 'insert'; relation: RelationInfo; record: TextRow }
  // `old` is the whole old row, or null when the table's replica identity is not FULL (no old row, or the key only).
  | { kind: 'update'; relation: RelationInfo; old: TextRow | null; record: TextRow }
  | { kind: 'delete'; relation: RelationInfo; old: TextRow | null }
  | { kind: 'truncate'; relations: RelationInfo[] }

export interface Transaction {
  /** 32-bit xid from the Begin message (what `pg_current_xact_id()::xid` returns). */
  xid: number
  /** Commit LSN: the transaction's `tx_offset`. */
  lsn: bigint
  /** End of the commit record: what is acknowledged once the transaction is applied. */
  endLsn: string
  changes: Change[]
}
