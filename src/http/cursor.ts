// Electric's live cursor (`electric-cursor`): seconds since 2024-10-09Z rounded up to a multiple of the
// long-poll timeout, so every live URL a client builds differs from its previous one. A CDN can collapse
// identical concurrent long-polls but never serves an old one again.
import { randomInt } from 'node:crypto'

const epoch = Date.UTC(2024, 9, 9)

/** The cursor for a live response; `previous` is the `cursor` the client sent. */
export function nextCursor(liveTimeoutMs: number, previous: string | undefined, now = Date.now()): string {
  const interval = Math.floor(liveTimeoutMs / 1000)
  if (interval === 0) return '0'
  const seconds = Math.floor((now - epoch) / 1000)
  const next = Math.ceil(seconds / interval) * interval
  const prev = previous !== undefined && /^[+-]?\d{1,15}$/.test(previous) ? Number(previous) : 0
  return String(next > prev ? next : prev + randomInt(1, 3601))
}
