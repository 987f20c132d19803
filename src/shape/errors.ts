/**
 * A shape that cannot be built: unknown model or field, unsupported filter, a value of the wrong type.
 * `path` names where in the input the problem is (e.g. `where.AND[1].title.contains`).
 */
export class ShapeError extends Error {
  override readonly name = 'ShapeError'
  constructor(readonly path: string, readonly problem: string) {
    super(path ? `${path}: ${problem}` : problem)
  }
}
