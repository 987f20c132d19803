// Standby status updates (the slot's confirmed position) for one replication connection. Invariant: a
// position is only ever confirmed once every transaction before it is applied (the stream reports
// positions in commit order, after applying), and positions sent never go backwards. Updates are
// coalesced: at most one per `intervalMs` while transactions stream in, the first after a quiet spell at
// once, the rest as one at the end of the interval carrying the latest applied position. Acknowledging
// every commit would cost a socket write here and a reply for the walsender to read and process per
// commit, on the same cores the writers use. A keepalive that asks for a reply is answered at once.
import { bigIntToLsn, lsnToBigInt } from './lsn.js'

const max = (a: bigint, b: bigint) => (a > b ? a : b)

/** Coalescing interval: confirmed positions lag what is applied by at most this long. */
export const statusIntervalMs = 10

export class StatusUpdates {
  private sentAt = -Infinity
  private sent = 0n
  private pending: string | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly send: (lsn: string) => void, private readonly intervalMs = statusIntervalMs) {}

  /** Everything before `lsn` is applied: confirm it now or at the end of the current interval. */
  applied(lsn: string): void {
    this.pending = lsn
    if (this.timer) return
    const wait = this.sentAt + this.intervalMs - performance.now()
    if (wait <= 0) this.flush()
    else this.timer = setTimeout(() => this.flush(), wait).unref()
  }

  /** Sends `lsn` (or a later position already due) at once, even if sent before: a keepalive asked for a reply. */
  reply(lsn: string): void {
    let value = lsnToBigInt(lsn)
    if (this.pending !== undefined) value = max(value, lsnToBigInt(this.pending))
    value = max(value, this.sent)
    this.clear()
    this.transmit(value)
  }

  /** Sends the pending position, if any (before the connection is closed). */
  flush(): void {
    const lsn = this.pending
    this.clear()
    if (lsn === undefined) return
    const value = lsnToBigInt(lsn)
    if (value > this.sent) this.transmit(value)
  }

  /** Drops what is pending (the connection is gone). */
  stop(): void {
    this.clear()
  }

  private transmit(value: bigint): void {
    this.sent = value
    this.sentAt = performance.now()
    this.send(bigIntToLsn(value))
  }

  private clear(): void {
    this.pending = undefined
    clearTimeout(this.timer)
    this.timer = undefined
  }
}
