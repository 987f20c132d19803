// A tRPC WebSocket client for the isolation benchmark (bench/isolation.ts): plain `ws` speaking tRPC's
// JSON-RPC, many subscriptions on one connection.
import WebSocket from 'ws'

/** Subscriptions by id, each reporting its events (tracked or not). */
export class Client {
  readonly socket: WebSocket
  private readonly upToDate = new Set<number>()
  private wanted = 0
  private ready: (() => void) | undefined
  onEvent: ((id: number, event: { type: string; row?: { title: string } }, at: number) => void) | undefined
  readonly opened: Promise<void>

  constructor(port: number, userId: string) {
    this.socket = new WebSocket(`ws://127.0.0.1:${port}/trpc?connectionParams=1`)
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => {
        this.socket.send(JSON.stringify({ method: 'connectionParams', data: { userId } }))
        resolve()
      })
      this.socket.once('error', reject)
    })
    this.socket.on('message', (data) => {
      const at = performance.now()
      const text = data.toString()
      if (text === 'PING') return this.socket.send('PONG')
      const message = JSON.parse(text)
      if (message.error) throw new Error(`bench: subscription ${message.id} failed: ${JSON.stringify(message.error)}`)
      const json = message.result?.data?.json
      if (!json) return
      const event = json.data !== undefined && json.id !== undefined ? json.data : json
      if ((event.type === 'up-to-date' || event.upToDate) && !this.upToDate.has(message.id)) {
        this.upToDate.add(message.id)
        if (this.upToDate.size >= this.wanted) this.ready?.()
      }
      this.onEvent?.(message.id, event, at)
    })
  }

  /** Opens subscriptions `first..first+count-1` and resolves once each was up to date. */
  async subscribe(path: string, inputs: unknown[], first = 1): Promise<void> {
    await this.opened
    this.wanted += inputs.length
    const done = new Promise<void>((resolve) => (this.ready = resolve))
    inputs.forEach((input, i) => this.socket.send(JSON.stringify({ id: first + i, method: 'subscription', params: { path, input: { json: input } } })))
    await done
  }

  close(): void {
    this.socket.terminate()
  }
}
