// The live-view WebSocket protocol: one JSON object per message. `state` is the position (shape log
// handle and offset) the page's list is at once it has applied the message; the page echoes the last
// one it applied when it reconnects.

/** The page's first message: the rendered view it shows and the position its list is at. */
export interface ClientHello {
  view: string
  state: string
}

/** What the server sends; defined beside the browser runtime, which is served as one self-contained file. */
export type { LiveViewMessage as ServerMessage } from '../../client/live/runtime.js'
