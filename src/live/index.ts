// Public API of live server-rendered views.
export { LiveViews } from './views.js'
export { LiveView, type LiveViewOptions, type RenderedView, type EventReader, type AttributeValue } from './view.js'
export { LiveViewEndpoint, type AttachViewsOptions } from './endpoint.js'
export { html, raw, escapeHtml, Html, type HtmlValue } from './html.js'
export type { Order } from './rows.js'
export type { ClientHello, ServerMessage } from './protocol.js'
