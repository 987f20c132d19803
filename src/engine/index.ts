export { EmbeddedEngine, type EngineOptions } from './engine.js'
export { EngineError } from './errors.js'
export type { RotationReason } from './shape-log.js'
