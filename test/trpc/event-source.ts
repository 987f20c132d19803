// A small EventSource for Node 20 (which has none), over fetch: enough of the WHATWG behaviour for tRPC's
// httpSubscriptionLink — named events, `lastEventId`, reconnecting with the Last-Event-ID header — plus
// `interrupt()`, which drops the connection the way a network failure would.
export class TestEventSource extends EventTarget {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSED = 2
  readonly CONNECTING = 0
  readonly OPEN = 1
  readonly CLOSED = 2
  readonly withCredentials = false
  readyState = 0
  private lastEventId = ''
  private controller: AbortController | undefined
  static readonly instances = new Set<TestEventSource>()

  constructor(readonly url: string, readonly init: { headers?: Record<string, string> } = {}) {
    super()
    TestEventSource.instances.add(this)
    void this.connect()
  }

  close(): void {
    this.readyState = this.CLOSED
    this.controller?.abort()
    TestEventSource.instances.delete(this)
  }

  /** Drops the current connection; the source reconnects as after a network error. */
  interrupt(): void {
    this.controller?.abort()
  }

  private async connect(): Promise<void> {
    const controller = (this.controller = new AbortController())
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...this.init.headers }
      if (this.lastEventId) headers['last-event-id'] = this.lastEventId
      const response = await fetch(this.url, { headers, signal: controller.signal })
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`)
      this.readyState = this.OPEN
      this.dispatchEvent(new Event('open'))
      await this.read(response.body)
    } catch {
      // a dropped or refused connection: reconnect below
    }
    if (this.readyState === this.CLOSED) return
    this.readyState = this.CONNECTING
    this.dispatchEvent(new Event('error'))
    setTimeout(() => { if (this.readyState !== this.CLOSED) void this.connect() }, 50)
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    let buffer = ''
    let data: string[] = []
    let type = ''
    // As in the WHATWG parser, an `id:` line fills a buffer that becomes the source's last event id only
    // when the event is dispatched: a connection cut inside an event resumes from the one before it.
    let idBuffer = this.lastEventId
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true })
      let newline
      while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1))
        if (line === '') {
          this.lastEventId = idBuffer
          if (data.length) this.dispatchEvent(new MessageEvent(type || 'message', { data: data.join('\n'), lastEventId: this.lastEventId }))
          data = []
          type = ''
          continue
        }
        const colon = line.indexOf(':')
        if (colon === 0) continue
        const field = colon === -1 ? line : line.slice(0, colon)
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'data') data.push(value)
        else if (field === 'event') type = value
        else if (field === 'id' && !value.includes('\0')) idBuffer = value
      }
    }
  }
}
