// Whether a transaction's effects are in a snapshot, from `pg_current_snapshot()`'s bounds: visible if
// its xid is below xmin, or below xmax and not in progress (xip). Txids from `pg_current_xact_id()::xid`
// are 32-bit while the bounds are 64-bit: the txid is placed in the epoch nearest to xmax first.

export interface SnapshotBounds {
  xmin: string
  xmax: string
  xip: string[]
}

export function visibleInSnapshot(txid: number, bounds: SnapshotBounds): boolean {
  const xmax = BigInt(bounds.xmax)
  const full = widen(txid, xmax)
  if (full < BigInt(bounds.xmin)) return true
  return full < xmax && !bounds.xip.includes(full.toString())
}

/** A 32-bit xid as the 64-bit xid nearest to `near`. */
export function widen(xid: number, near: bigint): bigint {
  let full = ((near >> 32n) << 32n) | BigInt(xid >>> 0)
  if (full > near + 0x80000000n) full -= 0x100000000n
  else if (full < near - 0x80000000n) full += 0x100000000n
  return full
}
