// TanStack DB over tRPC: a collection synced from a shape subscription, written through a mutation.
// Imports only types from @tanstack/db, so the client entry does not need it installed.
export { trpcCollectionOptions, type TrpcCollectionConfig, type TrpcCollectionOptions, type TrpcCollectionUtils } from './options.js'
export { toTanstackBatch, type MutationProcedure, type Relation, type TanstackWireMutation } from './batch.js'
