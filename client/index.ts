// trpc-sync/client: the browser- and Node-side API. Imports nothing from the server package.
export { createSyncClient, type SyncClient, type SyncClientOptions } from './client.js'
export { liveShape, LiveShape, TxidTimeoutError, parseSnapshot, type LiveShapeListener, type LiveShapeOptions, type ShapeProcedure, type ShapeSnapshot } from './live-shape.js'
export type { ChangeEvent, SyncEvent, TrackedEvent } from './events.js'
export { clientTransformer, createClientTransformer } from './transformer.js'
export { visibleInSnapshot, type SnapshotBounds } from './txid.js'
export { trpcCollectionOptions, toTanstackBatch, type TrpcCollectionConfig, type TrpcCollectionOptions, type TrpcCollectionUtils, type MutationProcedure, type Relation, type TanstackWireMutation } from './tanstack/index.js'
