// A shape as the app defines it: the definition the engine serves, the Prisma model its rows belong
// to (when known), and an optional transform applied to rows before they leave the server.
import type { ShapeDefinition } from '../shape/definition.js'
import type { ModelMeta } from '../shape/model.js'

declare const rowType: unique symbol

export class Shape<Row = Record<string, unknown>> {
  /** Phantom: the row type events carry (the Prisma model narrowed by `select`). */
  declare readonly [rowType]?: Row
  constructor(
    readonly definition: ShapeDefinition,
    readonly model: ModelMeta | undefined,
  ) {}
}

export type RowOf<S> = S extends Shape<infer Row> ? Row : never
