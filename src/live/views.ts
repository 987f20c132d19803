// The live views of one Sync: the views it hands out and the endpoints that serve their pages share
// one session store, so a page rendered by any view can connect through any endpoint.
import type { Server } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Shape } from '../sync/shape.js'
import { LiveViewEndpoint, type AttachViewsOptions } from './endpoint.js'
import { SessionStore } from './sessions.js'
import { LiveView, type EventReader, type LiveViewOptions } from './view.js'

export class LiveViews {
  private readonly sessions = new SessionStore()
  private readonly endpoints = new Set<LiveViewEndpoint>()

  constructor(private readonly reader: EventReader) {}

  view<Row>(shape: Shape<Row>, options: LiveViewOptions<Row>): LiveView<Row> {
    return new LiveView(this.reader, this.sessions, shape, options)
  }

  attach(server: Server | HttpsServer, options?: AttachViewsOptions): LiveViewEndpoint {
    const endpoint = new LiveViewEndpoint(server, this.reader, this.sessions, options)
    this.endpoints.add(endpoint)
    return endpoint
  }

  async close(): Promise<void> {
    await Promise.all([...this.endpoints].map((endpoint) => endpoint.close()))
    this.endpoints.clear()
    this.sessions.clear()
  }
}
