// Electric's log offsets: `<tx_offset>_<op_offset>`. The initial snapshot's chunks are `0_0`, `0_1`, …,
// `0_inf` marks its end, and replicated changes use the commit LSN (decimal) and the change's index.
// `-1` is before everything. Offsets compare as (tx, op) pairs; `inf` sorts after every op.

export interface LogOffset {
  tx: bigint
  /** Operation index; `Infinity` for `<tx>_inf`. */
  op: number
}

export const BEFORE_ALL: LogOffset = { tx: -1n, op: 0 }
export const SNAPSHOT_END: LogOffset = { tx: 0n, op: Infinity }

const pattern = /^(0|[1-9][0-9]{0,19})_(0|[1-9][0-9]{0,15}|inf)$/

/** Parses a client offset; `undefined` when it is not `-1` or `<tx>_<op>` (`now` is handled by callers). */
export function parseOffset(text: string): LogOffset | undefined {
  if (text === '-1') return BEFORE_ALL
  const match = pattern.exec(text)
  if (!match) return undefined
  const tx = BigInt(match[1]!)
  if (tx > 0xffffffffffffffffn) return undefined
  return { tx, op: match[2] === 'inf' ? Infinity : Number(match[2]) }
}

export function formatOffset(offset: LogOffset): string {
  if (offset.tx < 0n) return '-1'
  return `${offset.tx}_${offset.op === Infinity ? 'inf' : offset.op}`
}

export function compareOffsets(a: LogOffset, b: LogOffset): number {
  if (a.tx !== b.tx) return a.tx < b.tx ? -1 : 1
  return a.op === b.op ? 0 : a.op < b.op ? -1 : 1
}
