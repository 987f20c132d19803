/**
 * A shape the engine cannot serve, or a database it cannot sync from. `field` names what is wrong
 * (`table`, `where`, `columns`, `database`), as Electric's 400 bodies do; the message says how to fix it.
 */
export class EngineError extends Error {
  override readonly name = 'EngineError'
  constructor(readonly field: string, message: string) {
    super(message)
  }
}
