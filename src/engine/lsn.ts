/** Postgres LSNs (`16/B374D848`) as 64-bit integers, the form Electric's offsets use. */
export function lsnToBigInt(lsn: string): bigint {
  const slash = lsn.indexOf('/')
  if (slash < 0) throw new Error(`invalid LSN "${lsn}"`)
  return (BigInt(`0x${lsn.slice(0, slash)}`) << 32n) | BigInt(`0x${lsn.slice(slash + 1)}`)
}

export function bigIntToLsn(value: bigint): string {
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`
}
