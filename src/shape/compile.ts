// A Prisma model plus `{ where, select, replica }` -> a shape definition with real database names.
import type { Args } from '@prisma/client/runtime/client'
import { defaultLimits } from '../limits/index.js'
import type { Replica, ShapeDefinition } from './definition.js'
import { ShapeError } from './errors.js'
import { replicaOf } from './keyword.js'
import { modelOf, type ModelMeta } from './model.js'
import { compileWhere, type WhereLimits } from './prisma-where.js'
import { selectColumns } from './select.js'
import { render } from './sql.js'
import { describe } from './values.js'

type FindManyArgs<Delegate> = NonNullable<Args<Delegate, 'findMany'>>

/** Options of a Prisma shape, typed by the model delegate (`prisma.todo`) like `findMany`'s. */
export interface PrismaShapeOptions<Delegate = unknown> {
  where?: FindManyArgs<Delegate>['where']
  select?: FindManyArgs<Delegate>['select']
  replica?: Replica
}

/** A compiled Prisma shape: the definition sent to the engine and the model it reads. */
export interface PrismaShape {
  definition: ShapeDefinition
  model: ModelMeta
}

const optionKeys = new Set(['where', 'select', 'replica'])

/** `limits`: whereConditions, whereDepth and shapeParams in force (sync.shape passes sync.limits). */
export function compileShape<Delegate>(delegate: Delegate, options: PrismaShapeOptions<Delegate> = {}, limits: WhereLimits = defaultLimits): PrismaShape {
  const model = modelOf(delegate)
  if (typeof options !== 'object' || options === null) {
    throw new ShapeError('options', `expected { where, select, replica }, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!optionKeys.has(key)) throw new ShapeError(key, `${key} is not supported in shapes; expected where, select or replica`)
  }
  const where = compileWhere(model, options.where, limits)
  const definition: ShapeDefinition = { table: model.table, namespace: model.namespace, replica: replicaOf(options.replica) }
  if (where !== true) {
    const { sql, params } = render(where)
    definition.where = sql
    if (params.length) definition.params = params
  }
  const columns = selectColumns(model, options.select)
  if (columns) definition.columns = columns
  return { definition, model }
}
