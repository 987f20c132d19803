// The live-view WebSocket protocol: one JSON object per message. `state` is the position (shape log
// handle and offset) the page's list is at once it has applied the message; the page echoes the last
// one it applied when it reconnects.

/** The page's first message: the rendered view it shows and the position its list is at. */
export interface ClientHello {
  view: string
  state: string
}

export type ServerMessage =
  /** A new row: insert it before the row with key `before`, or last when `before` is null. */
  | { op: 'insert'; key: string; html: string; before: string | null; state: string }
  /** A changed row: replace its element; when `before` is present, also move it there. */
  | { op: 'update'; key: string; html: string; before?: string | null; state: string }
  | { op: 'delete'; key: string; state: string }
  /** Replace the whole list (after must-refetch, or when the page's position is not the server's). */
  | { op: 'reset'; html: string; state: string }
  /** The list equals the shape at `state`. */
  | { op: 'up-to-date'; state: string }
  /** The page now has a session of its own (it shared one with another connection); use this id from now on. */
  | { op: 'session'; id: string }
  /** The server no longer has this view (expired or restarted): render the page again. */
  | { op: 'expired' }
