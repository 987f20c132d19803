// Tracked event ids: where a subscriber is in a shape's log, signed so that a client can hand it back
// as `lastEventId` but cannot forge a position (a forged one could skip rows: a gap).
//
//   <kind>:<skip>:<offset>:<handle>:<mac>
//
// `offset` is where the source resumes after the event. Rows of the initial snapshot share their
// chunk's offset, so `skip` counts the rows of that chunk already delivered (re-reading the chunk
// repeats them); it is 0 for every other event. `kind` keeps ids unique (an up-to-date can share an
// offset with the change before it), which tRPC's clients rely on to drop events seen twice.
import * as crypto from 'node:crypto'

export type EventKind = 'row' | 'change' | 'up-to-date' | 'snapshot-end' | 'must-refetch'

export interface EventPosition {
  handle: string
  offset: string
  skip: number
  kind: EventKind
}

const kindCodes: Record<EventKind, string> = { row: 'r', change: 'c', 'up-to-date': 'u', 'snapshot-end': 's', 'must-refetch': 'm' }
const kindsByCode = new Map(Object.entries(kindCodes).map(([kind, code]) => [code, kind as EventKind]))
const offsetPattern = /^(-1|[0-9]{1,20}_([0-9]{1,16}|inf))$/
const macLength = 22 // base64url characters: 132 bits

// The MAC is SHA3-256 over a 256-bit key then the payload, truncated: a keyed sponge is a MAC (KMAC's
// construction; SHA-3 has no length extension), and one hash call costs a third of an HMAC-SHA256 here,
// which matters at one id per delivered event.
const sha3 = (text: string): string =>
  typeof crypto.hash === 'function' ? crypto.hash('sha3-256', text, 'base64url') : crypto.createHash('sha3-256').update(text).digest('base64url')

export class EventIds {
  /** Hex of a 256-bit key: derived from `secret`, or random. */
  private readonly key: string

  /** `secret`: keep ids valid across server restarts and instances; default a random key per process. */
  constructor(secret?: string | Uint8Array) {
    const bytes = secret === undefined ? crypto.randomBytes(32) : crypto.createHash('sha3-256').update(Buffer.from(secret)).digest()
    this.key = bytes.toString('hex')
  }

  /** Recent ids: readers of one log ask for the same ones, and a MAC costs a microsecond. */
  private readonly recent = new Map<string, string>()

  encode(position: EventPosition): string {
    const payload = `${kindCodes[position.kind]}:${position.skip}:${position.offset}:${position.handle}`
    let id = this.recent.get(payload)
    if (id === undefined) {
      if (this.recent.size >= 10_000) this.recent.clear()
      this.recent.set(payload, (id = `${payload}:${this.mac(payload)}`))
    }
    return id
  }

  /** The position an id names, or `undefined` if it is malformed or not signed with this key. */
  decode(id: unknown): EventPosition | undefined {
    if (typeof id !== 'string' || id.length > 512) return undefined
    const parts = id.split(':')
    if (parts.length !== 5) return undefined
    const [code, skip, offset, handle, mac] = parts as [string, string, string, string, string]
    const kind = kindsByCode.get(code)
    if (!kind || !/^(0|[1-9][0-9]{0,8})$/.test(skip) || !offsetPattern.test(offset) || handle === '') return undefined
    const expected = this.mac(id.slice(0, id.length - mac.length - 1))
    if (mac.length !== macLength || !crypto.timingSafeEqual(Buffer.from(mac), Buffer.from(expected))) return undefined
    return { kind, skip: Number(skip), offset, handle }
  }

  private mac(payload: string): string {
    return sha3(`${this.key}:${payload}`).slice(0, macLength)
  }
}
