// Sessions by id: the unguessable id in a rendered page is the page's only claim on its view (the
// shape was decided by the server at render time). A session lives while a connection reads for it,
// and for a grace period before its first connect and after a disconnect.
import { randomBytes } from 'node:crypto'
import type { ViewSession } from './session.js'

export const newSessionId = (): string => randomBytes(18).toString('base64url')

interface Entry {
  session: ViewSession<unknown>
  ttlMs: number
  timer: NodeJS.Timeout | undefined
}

export class SessionStore {
  private readonly entries = new Map<string, Entry>()

  add(session: ViewSession<unknown>, ttlMs: number): void {
    const entry: Entry = { session, ttlMs, timer: undefined }
    this.entries.set(session.id, entry)
    this.expireLater(entry)
  }

  /**
   * The session for a connecting page, now attached to `connection`; undefined if it expired. If
   * another connection holds it, the page gets a fork of its own (a duplicated tab, or a reconnect
   * while the server still thinks the old socket is open).
   */
  claim(id: string, connection: object): ViewSession<unknown> | undefined {
    const entry = this.entries.get(id)
    if (!entry) return undefined
    let session = entry.session
    if (session.attached) {
      session = session.fork(newSessionId())
      this.add(session, entry.ttlMs)
    }
    const claimed = this.entries.get(session.id)!
    clearTimeout(claimed.timer)
    session.attached = connection
    return session
  }

  /** The connection is gone: keep the session for a reconnect, for a while. */
  release(session: ViewSession<unknown>, connection: object): void {
    const entry = this.entries.get(session.id)
    if (!entry || session.attached !== connection) return
    session.attached = undefined
    this.expireLater(entry)
  }

  get size(): number {
    return this.entries.size
  }

  clear(): void {
    for (const entry of this.entries.values()) clearTimeout(entry.timer)
    this.entries.clear()
  }

  private expireLater(entry: Entry): void {
    clearTimeout(entry.timer)
    entry.timer = setTimeout(() => this.entries.delete(entry.session.id), entry.ttlMs)
    entry.timer.unref()
  }
}
