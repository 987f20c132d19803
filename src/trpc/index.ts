// Public API of the tRPC transport: shape subscriptions, client filters, serving over WebSockets.
export { shapeSubscription, type ShapeBuilder, type ShapeSubscriptionResolver, type SubscriptionOptions, type SubscriptionResolverOptions } from './subscription.js'
export { whereSchema, whereOperators, WhereFilterError, type AllowedWhere, type FieldFilter, type WhereField, type WhereOperator, type WhereSchema, type WhereSchemaOptions } from './where.js'
export { createSyncWSServer, parseCookies, type SyncContextOptions, type SyncWSServer, type SyncWSServerOptions } from './ws.js'
export { syncTransformer, createSyncTransformer, registerDecimal, type SyncTransformer } from './transformer.js'
export { syncEncoder } from './encoder.js'
export { EventIds, type EventKind, type EventPosition } from './event-id.js'
export type { FlowControl } from './socket.js'
export { prefetch, prefetchShape, serializeSnapshot, type PrefetchOptions, type ShapeSnapshot, type ShapeSubscriptionOutput } from './prefetch.js'
