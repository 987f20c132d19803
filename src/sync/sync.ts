// createSync: the server-side entry point. Holds the source (embedded engine or external Electric),
// builds shapes from Prisma models or keywords, and hands out readers.
import type { Args, Result } from '@prisma/client/runtime/client'
import { EmbeddedEngine, type EngineOptions } from '../engine/index.js'
import { compileShape, type PrismaShapeOptions } from '../shape/compile.js'
import { ShapeError } from '../shape/errors.js'
import { keywordShape, type KeywordShapeInput } from '../shape/keyword.js'
import { dataModelOf, isModelDelegate, type ModelMeta } from '../shape/model.js'
import type { ShapeSource } from '../source/source.js'
import { streamShape, type StreamItem, type StreamOptions } from '../source/stream.js'
import { eventConverter, type PositionedEvent, type SyncEvent } from './events.js'
import { LiveShape } from './live-shape.js'
import { Shape } from './shape.js'
import { writerMutation, type ResolverOptions, type WriterMutationOptions, type WriterMutationResolver } from '../writer/trpc.js'
import type { Writer } from '../writer/writer.js'
import { shapeSubscription, type ShapeBuilder, type ShapeSubscriptionResolver, type SubscriptionOptions } from '../trpc/subscription.js'
import { whereSchema, type WhereField, type WhereOperator, type WhereSchema, type WhereSchemaOptions } from '../trpc/where.js'

export interface EmbeddedSyncOptions {
  mode?: 'embedded'
  /** The app's Prisma client: model metadata for keyword shapes over its tables. */
  prisma?: object
  /** Postgres with wal_level=logical; default `process.env.DATABASE_URL`. */
  databaseUrl?: string
  /** Engine settings: slot and publication names, retention, chunk size, timeouts. */
  engine?: Omit<EngineOptions, 'databaseUrl'>
}

export interface SyncOptionsWithSource {
  mode: 'custom'
  prisma?: object
  /** Any ShapeSource (used by http mode and tests). */
  source: ShapeSource | (() => Promise<ShapeSource>)
}

export type SyncOptions = EmbeddedSyncOptions | SyncOptionsWithSource

type SelectArg<D> = NonNullable<Args<D, 'findMany'>>['select']
/** The row type of a Prisma shape: the model, narrowed by `select`. */
export type PrismaRow<D, O> = O extends { select: infer S } ? (S extends object ? Result<D, { select: S }, 'findFirstOrThrow'> : Result<D, object, 'findFirstOrThrow'>) : Result<D, object, 'findFirstOrThrow'>

export class Sync {
  private sourcePromise: Promise<ShapeSource> | undefined
  private closed = false

  constructor(private readonly options: SyncOptions) {}

  /** A shape from a Prisma model (`sync.shape(prisma.todo, { where, select })`) or from keywords. */
  shape<D extends object, O extends PrismaShapeOptions<D> & { select?: SelectArg<D> }>(delegate: D, options?: O): Shape<PrismaRow<D, O>>
  shape<Row = Record<string, unknown>>(keywords: KeywordShapeInput): Shape<Row>
  shape(target: object, options?: object): Shape<unknown> {
    if (isModelDelegate(target)) {
      const { definition, model } = compileShape(target, options ?? {})
      return new Shape(definition, model)
    }
    if (options !== undefined) throw new ShapeError('options', 'a keyword shape takes one argument: { table, where, params, columns, replica }')
    const definition = keywordShape(target as KeywordShapeInput)
    return new Shape(definition, this.modelForTable(definition.namespace, definition.table))
  }

  /** The source behind this Sync; the embedded engine starts on first use. */
  source(): Promise<ShapeSource> {
    if (this.closed) return Promise.reject(new Error('sync is closed'))
    return (this.sourcePromise ??= this.startSource())
  }

  /**
   * The shape's events: the initial rows as inserts, up-to-date, then live changes (Phoenix.Sync's
   * `Client.stream`). Rows are full Prisma rows whatever the shape's `replica`.
   */
  async *stream<Row>(shape: Shape<Row>, options: StreamOptions = {}): AsyncGenerator<PositionedEvent<Row>> {
    for await (const { event, handle, offset } of this.events(shape, options)) yield { ...event, handle, offset }
  }

  /**
   * `stream` without the per-reader copy: each change event is the one object every reader of that
   * log entry gets (so transports can cache its encoding); treat it as immutable.
   */
  async *events<Row>(shape: Shape<Row>, options: StreamOptions = {}): AsyncGenerator<SharedEvent<Row>> {
    const source = await this.source()
    const toEvent = converterFor<Row>(shape.model)
    for await (const item of streamShape(source, fullReplica(shape), options)) {
      yield { event: toEvent(item), handle: item.handle, offset: item.offset }
    }
  }

  /**
   * A tRPC mutation resolver that applies the procedure's input (a write batch) with the Writer that
   * `build` returns, in one interactive transaction of the app's Prisma client; resolves to `{ txid }`.
   */
  mutation<C, I>(build: (opts: ResolverOptions<C, I>) => Writer<any> | Promise<Writer<any>>,
    options: Omit<WriterMutationOptions<C>, 'prisma'> & { prisma?: WriterMutationOptions<C>['prisma'] } = {}): WriterMutationResolver<C, I> {
    const prisma = options.prisma ?? (this.options.prisma as WriterMutationOptions<C>['prisma'] | undefined)
    if (!prisma) throw new Error('sync.mutation needs a Prisma client: pass createSync({ prisma }) or mutation(build, { prisma })')
    return writerMutation<C>({ ...options, prisma })<C, I>(build)
  }

  /**
   * A tRPC v11 subscription resolver serving the shape that `build({ ctx, input, signal })` returns:
   * tracked events that resume exactly from `lastEventId` (see src/trpc/subscription.ts).
   */
  subscription<C, I, Row>(build: ShapeBuilder<C, I, Row>, options?: SubscriptionOptions): ShapeSubscriptionResolver<C, I, Row> {
    return shapeSubscription(this, build, options)
  }

  /** A zod schema for the Prisma where inputs clients may send: only `fields` and `operators`. */
  where<D extends object, F extends WhereField<D>, O extends WhereOperator = WhereOperator>(delegate: D, options: WhereSchemaOptions<F, O>): WhereSchema<D, F, O> {
    return whereSchema(delegate, options)
  }

  /** A server-side materialized shape kept current (Phoenix.Sync's `Shape`). */
  live<Row>(shape: Shape<Row>): LiveShape<Row> {
    return new LiveShape<Row>((signal) => this.stream(shape, { signal }))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const source = await this.sourcePromise?.catch(() => undefined)
    await source?.close()
  }

  private async startSource(): Promise<ShapeSource> {
    const options = this.options
    if (options.mode === 'custom') return typeof options.source === 'function' ? options.source() : options.source
    const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL
    if (!databaseUrl) throw new Error('createSync: set databaseUrl (or DATABASE_URL) to a Postgres with wal_level=logical')
    return EmbeddedEngine.start({ ...options.engine, databaseUrl })
  }

  private modelForTable(namespace: string, table: string): ModelMeta | undefined {
    return this.options.prisma ? dataModelOf(this.options.prisma).byTable.get(`${namespace}.${table}`) : undefined
  }
}

/** A shared event with the position to resume from after it. */
export interface SharedEvent<Row> {
  event: SyncEvent<Row>
  handle: string
  offset: string
}

// One converter per model, so readers of a shared log share each parsed row.
const converters = new WeakMap<ModelMeta, (item: StreamItem) => SyncEvent<unknown>>()
const plainConverter = eventConverter<unknown>(undefined)

function converterFor<Row>(model: ModelMeta | undefined): (item: StreamItem) => SyncEvent<Row> {
  if (!model) return plainConverter as (item: StreamItem) => SyncEvent<Row>
  let converter = converters.get(model)
  if (!converter) converters.set(model, (converter = eventConverter<unknown>(model)))
  return converter as (item: StreamItem) => SyncEvent<Row>
}

/** Prisma-facing readers need whole rows in updates and deletes. */
export function fullReplica<Row>(shape: Shape<Row>) {
  return shape.definition.replica === 'full' ? shape.definition : { ...shape.definition, replica: 'full' as const }
}

export function createSync(options: SyncOptions = {}): Sync {
  return new Sync(options)
}
