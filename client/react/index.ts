// React bindings for trpc-sync/client (react is an optional peer dependency: import them from here).
export { useLiveShape, type UseLiveShapeOptions, type UseLiveShapeResult } from './use-live-shape.js'
export type { LiveShapeState } from './store.js'
