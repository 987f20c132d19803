// The browser side of trpc-sync's live views: keeps each server-rendered list marked `data-live-view`
// in step with the database. Per list it opens a WebSocket, sends the position the list was rendered
// at (`data-live-state`), and applies the row fragments the server pushes: insert, replace, move and
// remove elements by `data-key`, or replace the whole list (after a must-refetch). It reconnects with
// backoff from the last position it applied. Self-contained (the server serves this file as is).

/** What the server sends; mirrors src/live/protocol.ts (the tests check they agree). */
export type LiveViewMessage =
  | { op: 'insert'; key: string; html: string; before: string | null; state: string }
  | { op: 'update'; key: string; html: string; before?: string | null; state: string }
  | { op: 'delete'; key: string; state: string }
  | { op: 'reset'; html: string; state: string }
  | { op: 'up-to-date'; state: string }
  | { op: 'session'; id: string }
  | { op: 'expired' }

/** Also set on the list as `data-live-status`. */
export type LiveViewStatus = 'connecting' | 'live' | 'reconnecting' | 'expired' | 'closed'

export interface LiveViewRuntimeOptions {
  /** The live views' WebSocket path or URL (http(s) URLs are turned into ws(s)). */
  url: string
  /** Longest wait between reconnect attempts, in ms. Default 10 s. */
  maxBackoffMs?: number
}

export interface LiveViewHandle {
  readonly element: HTMLElement
  readonly status: LiveViewStatus
  close(): void
}

/** Connects every list marked `data-live-view` under `root` that is not connected yet. */
export function startLiveViews(options: LiveViewRuntimeOptions, root: ParentNode = document): LiveViewHandle[] {
  return [...root.querySelectorAll<HTMLElement>('[data-live-view]:not([data-live-status])')].map((list) => connectLiveView(list, options))
}

export function connectLiveView(list: HTMLElement, options: LiveViewRuntimeOptions): LiveViewHandle {
  const url = socketUrl(options.url)
  const maxBackoff = options.maxBackoffMs ?? 10_000
  const byKey = new Map<string, Element>()
  let status: LiveViewStatus = 'connecting'
  let socket: WebSocket | undefined
  let attempt = 0
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let wasLive = false

  indexRows()
  connect()

  function connect(): void {
    setStatus(attempt === 0 ? 'connecting' : 'reconnecting')
    const ws = (socket = new WebSocket(url))
    ws.onopen = () => ws.send(JSON.stringify({ view: list.dataset.liveView, state: list.dataset.liveState }))
    ws.onmessage = (event) => apply(JSON.parse(String(event.data)) as LiveViewMessage)
    ws.onclose = () => {
      if (socket !== ws || status === 'closed' || status === 'expired') return
      // Jittered exponential backoff, so a restarted server is not hit by every page at once.
      const delay = Math.min(maxBackoff, 250 * 2 ** attempt++) * (0.5 + Math.random() / 2)
      setStatus('reconnecting')
      retryTimer = setTimeout(connect, delay)
    }
  }

  function apply(message: LiveViewMessage): void {
    switch (message.op) {
      case 'insert':
      case 'update':
        place(message.key, fragment(message.html), message.before)
        break
      case 'delete':
        byKey.get(message.key)?.remove()
        byKey.delete(message.key)
        break
      case 'reset':
        list.innerHTML = message.html
        indexRows()
        live()
        break
      case 'up-to-date':
        live()
        break
      case 'session':
        list.dataset.liveView = message.id
        return
      case 'expired':
        return expired()
    }
    list.dataset.liveState = message.state
  }

  /** Puts a row's element in place of its old one, or before the row keyed `before` (null: last). */
  function place(key: string, element: Element, before: string | null | undefined): void {
    const old = byKey.get(key)
    byKey.set(key, element)
    if (old && before === undefined) return old.replaceWith(element)
    old?.remove()
    list.insertBefore(element, before === null || before === undefined ? null : (byKey.get(before) ?? null))
  }

  function live(): void {
    attempt = 0
    wasLive = true
    setStatus('live')
  }

  /**
   * The server no longer has this page's view: render the page again, unless the app handles the
   * cancelable `live-view:expired` event. Only after the view was live once, so a server that never
   * knows the view (e.g. no sticky sessions) does not cause a reload loop.
   */
  function expired(): void {
    setStatus('expired')
    const event = new CustomEvent('live-view:expired', { bubbles: true, cancelable: true })
    if (list.dispatchEvent(event) && wasLive) location.reload()
  }

  function indexRows(): void {
    byKey.clear()
    for (const child of list.children) {
      const key = child.getAttribute('data-key')
      if (key !== null) byKey.set(key, child)
    }
  }

  function setStatus(next: LiveViewStatus): void {
    status = next
    list.dataset.liveStatus = next
  }

  return {
    element: list,
    get status() {
      return status
    },
    close() {
      setStatus('closed')
      clearTimeout(retryTimer)
      socket?.close(1000)
    },
  }
}

/** One row's element from its HTML (a template parses `<tr>` and `<li>` alike). */
function fragment(html: string): Element {
  const template = document.createElement('template')
  template.innerHTML = html
  const element = template.content.firstElementChild
  if (!element) throw new Error(`live view: a row fragment without an element: ${html.slice(0, 80)}`)
  return element
}

function socketUrl(url: string): string {
  const resolved = new URL(url, location.href)
  if (resolved.protocol === 'http:') resolved.protocol = 'ws:'
  else if (resolved.protocol === 'https:') resolved.protocol = 'wss:'
  return resolved.href
}
