// The connection state a user should see: `live` while the WebSocket is open, `reconnecting` while the
// client tries to get it back (and `connecting` before it was ever open), `offline` when the browser
// says it has no network or the client is idle or closed. Read from tRPC's own connection state. The
// browser's word comes first: a socket that looks open while it has no network (a proxy, a service
// worker, a test's route) delivers nothing, so it is not `live`.
import type { createWSClient } from '@trpc/client'

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline'

export interface Connection {
  readonly state: ConnectionState
  /** Called with each new state; returns an unsubscribe function. */
  subscribe(listener: (state: ConnectionState) => void): () => void
  /** Stops following the client (it is closed). */
  close(): void
}

type WSClient = ReturnType<typeof createWSClient>

export function connectionOf(ws: WSClient): Connection {
  const listeners = new Set<(state: ConnectionState) => void>()
  let wasLive = false
  let closed = false
  let state: ConnectionState = 'connecting'
  const update = () => {
    const tRPC = ws.connectionState.get().state
    if (tRPC === 'pending') wasLive = true
    const browserOffline = typeof navigator !== 'undefined' && navigator.onLine === false
    const next: ConnectionState = closed || browserOffline ? 'offline'
      : tRPC === 'pending' ? 'live'
      : tRPC === 'idle' ? 'offline'
      : wasLive ? 'reconnecting' : 'connecting'
    if (next === state) return
    state = next
    for (const listener of listeners) listener(state)
  }
  const subscription = ws.connectionState.subscribe({ next: update })
  const onNetwork = () => update()
  const events = typeof window !== 'undefined' && typeof window.addEventListener === 'function' ? window : undefined
  events?.addEventListener('online', onNetwork)
  events?.addEventListener('offline', onNetwork)
  update()
  return {
    get state() {
      return state
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    close() {
      closed = true
      update()
      subscription.unsubscribe()
      events?.removeEventListener('online', onNetwork)
      events?.removeEventListener('offline', onNetwork)
      listeners.clear()
    },
  }
}
