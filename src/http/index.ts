// Electric-protocol HTTP endpoints: app routes (sync.handler / sync.fetchHandler), interrupts, and the
// standalone Electric-compatible server.
export { handleShapeRequest, type EndpointContext, type ShapeHttpRequest, type ShapeResolver } from './handler.js'
export { nodeHandler, type NodeShapeHandler } from './node.js'
export { fetchHandler, type FetchShapeHandler } from './fetch.js'
export { InterruptRegistry, type InterruptMatch } from './interrupt.js'
export { defaultServeOptions, type CorsOptions, type ServeOptions, type ShapeHandlerOptions } from './options.js'
export type { HttpResult } from './response.js'
export { createShapeServer, startShapeServer, type RunningShapeServer, type ShapeAdmin, type ShapeServerOptions, type StartShapeServerOptions } from './server.js'
