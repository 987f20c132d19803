// One page's WebSocket: it names its session and the position its list is at, and the server reads
// the shape from the session's position, pushing each change as a rendered row fragment.
import type { WebSocket } from 'ws'
import type { ClientHello, ServerMessage } from './protocol.js'
import type { ListChange, ViewSession } from './session.js'
import type { SessionStore } from './sessions.js'
import type { EventReader } from './view.js'

export interface ConnectionOptions {
  /** Render or read failures (the socket is closed with 1011; the page reconnects). */
  onError: (error: unknown) => void
  /** Stop reading while more than this many bytes wait to be sent. */
  highWaterBytes: number
}

const OPEN = 1
const HELLO_TIMEOUT_MS = 10_000

export function serveConnection(socket: WebSocket, reader: EventReader, sessions: SessionStore, options: ConnectionOptions): void {
  const controller = new AbortController()
  let session: ViewSession<unknown> | undefined
  const helloTimer = setTimeout(() => socket.close(4400, 'expected a hello'), HELLO_TIMEOUT_MS)

  socket.once('message', (data) => {
    clearTimeout(helloTimer)
    const hello = parseHello(String(data))
    if (!hello) return socket.close(4400, 'bad hello')
    session = sessions.claim(hello.view, socket)
    if (!session) {
      send({ op: 'expired' })
      return socket.close(1000, 'live view expired')
    }
    if (session.id !== hello.view) send({ op: 'session', id: session.id })
    void follow(session, hello.state)
  })
  socket.on('close', () => {
    clearTimeout(helloTimer)
    controller.abort()
    if (session) sessions.release(session, socket)
  })

  async function follow(session: ViewSession<unknown>, state: string): Promise<void> {
    const { signal } = controller
    const { handle, offset } = session.resume(state)
    let sentState = state
    let announced = false
    try {
      for await (const item of reader.events(session.view.shape, { handle, offset, signal })) {
        if (signal.aborted) return
        const change = session.apply(item)
        if (!change) continue
        // The first up-to-date (or reset) tells the page it is live; later ones only if they moved the position.
        if (change.op === 'up-to-date' && announced && session.state === sentState) continue
        if (change.op === 'up-to-date' || change.op === 'reset') announced = true
        sentState = session.state
        send(toMessage(session, change))
        if (socket.bufferedAmount > options.highWaterBytes) await drained(signal)
      }
    } catch (error) {
      if (signal.aborted) return
      options.onError(error)
      socket.close(1011, 'live view failed')
    }
  }

  function send(message: ServerMessage): void {
    if (socket.readyState === OPEN) socket.send(JSON.stringify(message))
  }

  /** Waits until the socket's send buffer is below the high-water mark, or the connection ends. */
  async function drained(signal: AbortSignal): Promise<void> {
    while (socket.bufferedAmount > options.highWaterBytes && !signal.aborted) await new Promise((r) => setTimeout(r, 20))
  }
}

function toMessage(session: ViewSession<unknown>, change: ListChange<unknown>): ServerMessage {
  const state = session.state
  switch (change.op) {
    case 'insert':
      return { op: 'insert', key: change.key, html: session.view.renderRow(change.key, change.row), before: change.before, state }
    case 'update': {
      const html = session.view.renderRow(change.key, change.row)
      return change.before === undefined ? { op: 'update', key: change.key, html, state } : { op: 'update', key: change.key, html, before: change.before, state }
    }
    case 'delete':
      return { op: 'delete', key: change.key, state }
    case 'reset':
      return { op: 'reset', html: session.view.renderRows(session.rows), state }
    case 'up-to-date':
      return { op: 'up-to-date', state }
  }
}

function parseHello(text: string): ClientHello | undefined {
  try {
    const hello = JSON.parse(text) as Partial<ClientHello>
    return typeof hello.view === 'string' && typeof hello.state === 'string' ? { view: hello.view, state: hello.state } : undefined
  } catch {
    return undefined
  }
}
