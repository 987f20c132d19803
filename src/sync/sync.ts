// createSync: the server-side entry point. Holds the source (embedded engine or external Electric),
// builds shapes from Prisma models or keywords, and hands out readers.
import type { IncomingMessage } from 'node:http'
import type { Args, Result } from '@prisma/client/runtime/client'
import { ElectricSource, type ElectricSourceOptions } from '../electric/index.js'
import { fetchHandler, InterruptRegistry, nodeHandler, type FetchShapeHandler, type InterruptMatch, type NodeShapeHandler, type ShapeHandlerOptions, type ShapeResolver } from '../http/index.js'
import { EmbeddedEngine, type EngineOptions } from '../engine/index.js'
import { compileShape, type PrismaShapeOptions } from '../shape/compile.js'
import { ShapeError } from '../shape/errors.js'
import { keywordShape, type KeywordShapeInput } from '../shape/keyword.js'
import { dataModelOf, isModelDelegate, type ModelMeta } from '../shape/model.js'
import type { ShapeSource } from '../source/source.js'
import { streamShape, streamShapeBatches, type StreamItem, type StreamOptions } from '../source/stream.js'
import { eventConverter, type PositionedEvent, type SyncEvent } from './events.js'
import { LiveShape } from '../../client/live-shape.js'
import type { TrackedEvent } from '../../client/events.js'
import { Shape } from './shape.js'
import { writerMutation, type ResolverOptions, type WriterMutationOptions, type WriterMutationResolver } from '../writer/trpc.js'
import type { Writer } from '../writer/writer.js'
import { LiveViews, type AttachViewsOptions, type LiveView, type LiveViewEndpoint, type LiveViewOptions } from '../live/index.js'
import { shapeSubscription, type ShapeBuilder, type ShapeSubscriptionResolver, type SubscriptionOptions } from '../trpc/subscription.js'
import { resolveLimits, type SyncLimits } from '../limits/index.js'
import { whereSchema, type WhereField, type WhereOperator, type WhereSchema, type WhereSchemaOptions } from '../trpc/where.js'

/** Options every mode takes. */
export interface CommonSyncOptions {
  /** What one client may make the server spend (see README "Limits"); unset ones keep their defaults. */
  limits?: Partial<SyncLimits>
}

export interface EmbeddedSyncOptions extends CommonSyncOptions {
  mode?: 'embedded'
  /** The app's Prisma client: model metadata for keyword shapes over its tables. */
  prisma?: object
  /** Postgres with wal_level=logical; default `process.env.DATABASE_URL`. */
  databaseUrl?: string | undefined
  /** Engine settings: slot and publication names, retention, chunk size, timeouts. */
  engine?: Omit<EngineOptions, 'databaseUrl'>
}

export interface SyncOptionsWithSource extends CommonSyncOptions {
  mode: 'custom'
  prisma?: object
  /** Any ShapeSource (used by http mode and tests). */
  source: ShapeSource | (() => Promise<ShapeSource>)
}

/** http mode: shapes come from an external Electric (self-hosted or Electric Cloud). */
export interface HttpSyncOptions extends ElectricSourceOptions, CommonSyncOptions {
  mode: 'http'
  prisma?: object
}

export type SyncOptions = EmbeddedSyncOptions | SyncOptionsWithSource | HttpSyncOptions

type SelectArg<D> = NonNullable<Args<D, 'findMany'>>['select']
/** The row type of a Prisma shape: the model, narrowed by `select`. */
export type PrismaRow<D, O> = O extends { select: infer S } ? (S extends object ? Result<D, { select: S }, 'findFirstOrThrow'> : Result<D, object, 'findFirstOrThrow'>) : Result<D, object, 'findFirstOrThrow'>

export class Sync {
  private sourcePromise: Promise<ShapeSource> | undefined
  private closed = false
  /**
   * Open streams, aborted by close(): every loop exits before the source closes under it. A set rather
   * than one shared signal, so 10,000 streams do not hang 10,000 listeners on one signal.
   */
  private readonly openStreams = new Set<AbortController>()
  private liveViews: LiveViews | undefined
  private readonly interrupts = new InterruptRegistry()
  /** The limits in force (defaults with `createSync({ limits })`'s overrides). */
  readonly limits: Readonly<SyncLimits>

  constructor(private readonly options: SyncOptions) {
    this.limits = resolveLimits(options.limits)
  }

  /** A shape from a Prisma model (`sync.shape(prisma.todo, { where, select })`) or from keywords. */
  shape<D extends object, O extends PrismaShapeOptions<D> & { select?: SelectArg<D> }>(delegate: D, options?: O): Shape<PrismaRow<D, O>>
  shape<Row = Record<string, unknown>>(keywords: KeywordShapeInput): Shape<Row>
  shape(target: object, options?: object): Shape<unknown> {
    if (isModelDelegate(target)) {
      const { definition, model } = compileShape(target, options ?? {}, this.limits)
      return new Shape(definition, model)
    }
    if (options !== undefined) throw new ShapeError('options', 'a keyword shape takes one argument: { table, where, params, columns, replica }')
    const definition = keywordShape(target as KeywordShapeInput, this.limits)
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
    const { signal, release } = this.untilClosed(options.signal)
    try {
      for await (const item of streamShape(source, fullReplica(shape), { ...options, signal })) {
        yield { event: toEvent(item), handle: item.handle, offset: item.offset }
      }
    } finally {
      release()
    }
  }

  /** `events` a batch at a time (see streamShapeBatches), for readers that deliver many events. */
  async *eventBatches<Row>(shape: Shape<Row>, options: StreamOptions = {}): AsyncGenerator<SharedEvent<Row>[]> {
    const source = await this.source()
    const toEvent = converterFor<Row>(shape.model)
    const { signal, release } = this.untilClosed(options.signal)
    try {
      for await (const batch of streamShapeBatches(source, fullReplica(shape), { ...options, signal })) {
        yield batch.map((item) => ({ event: toEvent(item), handle: item.handle, offset: item.offset }))
      }
    } finally {
      release()
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
    const limits = { maxOperations: this.limits.batchOperations, maxBytes: this.limits.batchBytes }
    return writerMutation<C>({ ...limits, ...definedOnly(options), prisma })<C, I>(build)
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
    return whereSchema(delegate, options, this.limits)
  }

  /**
   * An Electric-protocol endpoint serving `shape`, or the shape `shape(req)` returns per request, as a
   * Node handler `(req, res, next?)` for node:http, Express or Fastify (Phoenix.Sync's Router `sync` and
   * Controller `sync_render`). Clients choose only offset, handle, live, cursor, live_sse and log; in http
   * mode the request is proxied to Electric with the shape and the secret added.
   */
  handler<Req extends IncomingMessage = IncomingMessage>(shape: ShapeResolver<Req>, options: ShapeHandlerOptions = {}): NodeShapeHandler<Req> {
    return nodeHandler(this.endpoint(options), shape)
  }

  /** `handler` as a fetch handler `(Request) => Promise<Response>`, for Next.js route handlers and Hono. */
  fetchHandler(shape: ShapeResolver<Request>, options: ShapeHandlerOptions = {}): FetchShapeHandler {
    return fetchHandler(this.endpoint(options), shape)
  }

  /**
   * Ends the held live requests whose shape matches (a table name, a Prisma delegate, a shape, some
   * definition fields, or a predicate). Each re-runs its shape function: the same shape keeps waiting,
   * a different one answers 409 with the new shape's handle. Returns how many were interrupted.
   */
  interrupt(match: InterruptMatch): number {
    return this.interrupts.interrupt(match)
  }

  /** A server-side materialized shape kept current (Phoenix.Sync's `Shape`). */
  live<Row>(shape: Shape<Row>): LiveShape<Row> {
    // The client's LiveShape, fed in-process: changes applied a batch at a time, awaitTxId included.
    return new LiveShape<Row>((signal) => positioned(this.events(shape, { signal })))
  }

  /** A server-rendered list of the shape's rows that the browser runtime keeps live (see src/live). */
  view<Row>(shape: Shape<Row>, options: LiveViewOptions<Row>): LiveView<Row> {
    return (this.liveViews ??= new LiveViews(this)).view(shape, options)
  }

  /** Serves live views' WebSockets (and the browser runtime) beside the app's HTTP server. */
  attachViews(server: Parameters<LiveViews['attach']>[0], options?: AttachViewsOptions): LiveViewEndpoint {
    return (this.liveViews ??= new LiveViews(this)).attach(server, options)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const stream of this.openStreams) stream.abort()
    this.openStreams.clear()
    await this.liveViews?.close()
    const source = await this.sourcePromise?.catch(() => undefined)
    await source?.close()
  }

  /** A signal aborted by close() or by the reader's own signal; `release` unhooks it from both. */
  private untilClosed(own: AbortSignal | undefined): { signal: AbortSignal; release: () => void } {
    const controller = new AbortController()
    const abort = () => controller.abort()
    if (this.closed || own?.aborted) abort()
    else this.openStreams.add(controller)
    own?.addEventListener('abort', abort, { once: true })
    return { signal: controller.signal, release: () => { this.openStreams.delete(controller); own?.removeEventListener('abort', abort) } }
  }

  private endpoint(options: ShapeHandlerOptions) {
    return { source: () => this.source(), interrupts: this.interrupts, options }
  }

  private async startSource(): Promise<ShapeSource> {
    const options = this.options
    if (options.mode === 'custom') return typeof options.source === 'function' ? options.source() : options.source
    if (options.mode === 'http') return new ElectricSource(options)
    const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL
    if (!databaseUrl) throw new Error('createSync: set databaseUrl (or DATABASE_URL) to a Postgres with wal_level=logical')
    return EmbeddedEngine.start({ ...options.engine, databaseUrl, limits: this.limits })
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


async function* positioned<Row>(events: AsyncIterable<SharedEvent<Row>>): AsyncGenerator<TrackedEvent<Row>> {
  for await (const { event, handle, offset } of events) yield { id: `${handle}/${offset}`, data: event }
}

/** The options that are set: an explicit `undefined` does not override a limit. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>
}
