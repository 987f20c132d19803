// Errors of the where-clause compiler and evaluator.

/**
 * A where clause that cannot be used: a syntax error, an unknown column, a type mismatch or a construct
 * this evaluator does not support. Thrown by `compileWhere`, i.e. when a shape is defined.
 *
 * `message` is formatted the way Electric reports where-clause errors (`At location 17: syntax error at
 * or near "x"`); `reason` is the message without the location, and `location` the character offset
 * (for syntax errors it is the parser's cursor position in `SELECT 1 WHERE <where>`, as Electric reports
 * it; for other errors the offset in the where clause itself, as Electric does too).
 */
export class WhereError extends Error {
  override readonly name = 'WhereError'
  constructor(
    readonly reason: string,
    readonly location?: number,
  ) {
    super(location === undefined ? reason : `At location ${location}: ${reason}`)
  }

  /** The `{ location, message }` pair an HTTP error body needs. */
  toJSON(): { location: number | undefined; message: string } {
    return { location: this.location, message: this.reason }
  }
}

/**
 * A runtime error of an expression (division by zero, overflow, invalid input for a cast), the cases
 * where Postgres raises an error. Internal: `evaluate` turns it into "no match"; while compiling, a
 * constant sub-expression that fails becomes a `WhereError`, as Postgres fails at plan time.
 */
export class EvalFailure extends Error {
  override readonly name = 'EvalFailure'
}

export function fail(message: string): never {
  throw new EvalFailure(message)
}
