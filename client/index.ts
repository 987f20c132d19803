// trpc-sync/client: the browser- and Node-side API. Imports nothing from the server package, and no
// optional peer's types (the TanStack DB collection is `trpc-sync/tanstack`, the React hook `trpc-sync/react`).
export { createSyncClient, type SyncClient, type SyncClientOptions, type WebSocketConstructor } from './client.js'
export { liveShape, LiveShape, TxidTimeoutError, parseSnapshot, type LiveShapeListener, type LiveShapeOptions, type ShapeProcedure, type ShapeSnapshot } from './live-shape.js'
export type { ChangeEvent, SyncEvent, TrackedEvent } from './events.js'
export { clientTransformer, createClientTransformer } from './transformer.js'
export { visibleInSnapshot, type SnapshotBounds } from './txid.js'
export { sendBatch, withBatchId, batchIdOf, isOutcomeUnknown, retryUnknownOutcome, BatchRejectedError, BatchOutcomeUnknownError, type BatchProcedure, type RetryOptions } from './writes.js'
export { batchRetryLink, type BatchRetryLinkOptions } from './retry-link.js'
export type { Connection, ConnectionState } from './connection.js'
