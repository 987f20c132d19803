import { classifyError, sqlStateOf } from '../source/errors.js'
import { describeDatabaseError } from '../source/database-errors.js'

/**
 * A shape the engine cannot serve, or a database it cannot sync from. `field` names what is wrong
 * (`table`, `where`, `columns`, `database`), as Electric's 400 bodies do; the message says how to fix it.
 */
export class EngineError extends Error {
  override readonly name = 'EngineError'
  constructor(readonly field: string, message: string, options?: ErrorOptions) {
    super(message, options)
  }
}

/**
 * A query of the shape that Postgres refused for what it says (a bad value, too many parameters): the
 * client's error, told in our own words naming the problem (describeDatabaseError); Postgres's text
 * stays on the server, as the cause. Undefined for errors that are not the request's (see classifyError).
 */
export function rejectedQuery(error: unknown, field: string): EngineError | undefined {
  if (classifyError(error) !== 'request') return undefined
  const problem = describeDatabaseError(error) ?? 'Postgres rejected it'
  return new EngineError(sqlStateOf(error) === '08P01' ? 'params' : field, `the shape's query failed in Postgres: ${problem}`, { cause: error })
}
