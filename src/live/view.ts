// sync.view(shape, { render }): a list of a shape's rows rendered on the server, that the browser
// runtime keeps live. Each html() reads the shape up to date, renders it, and registers the session
// the page's WebSocket will continue from.
import type { Shape } from '../sync/shape.js'
import type { SharedEvent } from '../sync/sync.js'
import type { StreamOptions } from '../source/stream.js'
import { escapeHtml, type Html } from './html.js'
import { keyedHtml } from './keyed.js'
import { RowList, type Order } from './rows.js'
import { ViewSession, type SessionView } from './session.js'
import { newSessionId, type SessionStore } from './sessions.js'

/** The reader views consume (a Sync): a shape's shared events with their positions. */
export interface EventReader {
  events<Row>(shape: Shape<Row>, options?: StreamOptions): AsyncIterable<SharedEvent<Row>>
}

export type AttributeValue = string | number | boolean | null | undefined

export interface LiveViewOptions<Row> {
  /**
   * One row's HTML: a single element (the view adds `data-key` to it). Use any template: the `html`
   * tag, react-dom/server's renderToString, ... The view escapes nothing itself.
   */
  render: (row: Row) => string | Html
  /** The list's order (ties broken by row key). Default: the order rows arrive in, new rows last. */
  order?: Order<Row>
  /** The list element: tag (default `ul`) and attributes (escaped; true renders the bare name). */
  container?: { tag?: string; attributes?: Record<string, AttributeValue> }
  /**
   * How long the server keeps a rendered page's state waiting for its WebSocket, and after a
   * disconnect for its reconnect; a page that comes back later is told to render again. Default 120 s.
   */
  sessionTtlMs?: number
}

export interface RenderedView<Row> {
  /** The whole list element, marked for the runtime. */
  html: string
  /** Just the rows, for an app that writes the list element itself (with `attributes` on it). */
  rowsHtml: string
  /** The attributes the runtime finds the list by (spread them into JSX, or write them out). */
  attributes: { 'data-live-view': string; 'data-live-state': string }
  /** The session id the page's WebSocket claims (unguessable). */
  id: string
  /** The log position the list was rendered at. */
  state: string
  /** The rows, in list order. */
  rows: Row[]
}

export class LiveView<Row> implements SessionView<Row> {
  constructor(
    private readonly reader: EventReader,
    private readonly sessions: SessionStore,
    readonly shape: Shape<Row>,
    private readonly options: LiveViewOptions<Row>,
  ) {}

  async html(): Promise<RenderedView<Row>> {
    const session = new ViewSession<Row>(newSessionId(), this, new RowList(this.options.order))
    for await (const item of this.reader.events(this.shape, { live: false })) session.apply(item)
    const rowsHtml = this.renderRows(session.rows)
    this.sessions.add(session as ViewSession<unknown>, this.options.sessionTtlMs ?? 120_000)
    const attributes = { 'data-live-view': session.id, 'data-live-state': session.state }
    const { tag = 'ul', attributes: own = {} } = this.options.container ?? {}
    return {
      html: `<${tag}${renderAttributes({ ...own, ...attributes })}>${rowsHtml}</${tag}>`,
      rowsHtml,
      attributes,
      id: session.id,
      state: session.state,
      rows: [...session.rows.entries()].map(([, row]) => row),
    }
  }

  renderRow(key: string, row: Row): string {
    return keyedHtml(String(this.options.render(row)), key)
  }

  renderRows(rows: RowList<Row>): string {
    let out = ''
    for (const [key, row] of rows.entries()) out += this.renderRow(key, row)
    return out
  }
}

function renderAttributes(attributes: Record<string, AttributeValue>): string {
  let out = ''
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue
    out += value === true ? ` ${name}` : ` ${name}="${escapeHtml(String(value))}"`
  }
  return out
}
