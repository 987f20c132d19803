export { ElectricSource, type ElectricSourceOptions } from './source.js'
export { ElectricError, ElectricUnavailableError } from './errors.js'
