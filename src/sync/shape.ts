// A shape as the app defines it: the definition the engine serves, the Prisma model its rows belong
// to (when known), and an optional transform applied to rows before they leave the server.
import type { ShapeDefinition } from '../shape/definition.js'
import type { ModelMeta } from '../shape/model.js'
import type { ChangeMessage } from '../source/messages.js'

declare const rowType: unique symbol

/**
 * Maps or drops change messages before an HTTP endpoint sends them (Phoenix.Sync's `transform`): a
 * flat-map over Electric's raw messages (values are Postgres text). Return the message (changed or
 * not), several messages, or `null` / `[]` to drop it. Never change `key`. The argument is a copy.
 */
export type ShapeTransform = (message: ChangeMessage) => ChangeMessage | readonly ChangeMessage[] | null | undefined

export class Shape<Row = Record<string, unknown>> {
  /** Phantom: the row type events carry (the Prisma model narrowed by `select`). */
  declare readonly [rowType]?: Row
  constructor(
    readonly definition: ShapeDefinition,
    readonly model: ModelMeta | undefined,
    readonly transform?: ShapeTransform,
  ) {}

  /** The same shape with `transform` applied to its messages on HTTP endpoints (`sync.handler`). */
  withTransform(transform: ShapeTransform): Shape<Row> {
    return new Shape<Row>(this.definition, this.model, transform)
  }
}

export type RowOf<S> = S extends Shape<infer Row> ? Row : never
