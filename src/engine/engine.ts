// The embedded sync engine: one replication stream, one log per distinct shape definition, readers
// answered from the logs. Implements ShapeSource, the interface every transport reads through.
import { createHash } from 'node:crypto'
import pg from 'pg'
import type { ShapeDefinition } from '../shape/definition.js'
import type { FetchRequest, FetchResult, ShapeSource, SubsetRequest, SubsetResult } from '../source/source.js'
import { heldTooLong, nextTurn } from '../source/turn-budget.js'
import { logResponse } from './log-response.js'
import { FilterIndex, type CompiledWhere } from '../where/index.js'
import { qualified, type TableInfo } from './catalog.js'
import { EngineError } from './errors.js'
import { formatOffset, parseOffset, type LogOffset } from './offset.js'
import { lsnToBigInt } from './lsn.js'
import { ReplicationStream } from './replication.js'
import { ShapeLog, type ReadResult, type RotationReason } from './shape-log.js'
import { coldestIdle, LogBudget } from './log-budget.js'
import { SnapshotGate } from './snapshot-gate.js'
import { LimitError, resolveLimits, type SyncLimits } from '../limits/index.js'
import { displaySettings, takeSnapshot } from './snapshot.js'
import { preflight } from './preflight.js'
import {
  CatalogWatch, FreshTables, isTableChange, publishGeneratedColumns, refuseUnsentColumns, relationMatches, sameTable,
  TableChangedError, unknownLabelCheck, VanishedTables,
} from './relations.js'
import { Publisher } from './publication.js'
import { dropSlot, SlotGuard } from './slot.js'
import { canonicalKey, compileWhereFor, selectColumns, translateSnapshotError } from './definitions.js'
import { applyGuarded } from './apply-errors.js'
import { routeTransaction, SliceBudget, type TableRoute } from './routing-budget.js'
import { querySubset } from './subset.js'
import { FastLane } from './fast-lane.js'
import type { RelationInfo, Transaction } from './transaction.js'

export interface EngineOptions {
  databaseUrl: string
  /** Replication slot; default `trpc_sync_<database>`. */
  slotName?: string
  /** Publication; default `trpc_sync_publication`. */
  publicationName?: string
  /** Drop the slot on close (for tests and short-lived processes). Default false. */
  temporarySlot?: boolean
  /**
   * Chunk size in bytes, Electric's `chunk_bytes_threshold` (default 10 MiB): a response (a snapshot chunk,
   * or a read of the log) ends with the entry whose JSON brings it to this many bytes or past it.
   */
  chunkBytes?: number
  /** Log entries a shape retains before it is rotated (readers get must-refetch). Default 100,000. */
  maxLogEntries?: number
  /** A shape with no readers for this long is dropped. Default 5 minutes. */
  idleTimeoutMs?: number
  /**
   * At most this many log entries per response, besides `chunkBytes` (a log chunk ends at whichever
   * comes first). Default 1,000; `Infinity` cuts by bytes only, as Electric does.
   */
  readLimit?: number
  /** Live request wait, ms (Electric's long-poll default: 20 s). */
  liveTimeoutMs?: number
  /** Connections for snapshots and catalog reads. Default 4. */
  poolSize?: number
  /** How long to wait for another engine to release the slot before failing. Default 15 s. */
  lockTimeoutMs?: number
  /** How often the catalog of synced tables is re-read (tables dropped, recreated or altered without writes). Default 10 s. */
  catalogCheckMs?: number
  /**
   * lock_timeout of the engine's ALTER TABLE / ALTER PUBLICATION on a synced table, and the bound of each
   * wait for transactions open when the table was published. Default 3 s.
   */
  tableLockTimeoutMs?: number
  /** Tries of each of those before the shape fails naming the table (503, retry later). Default 3. */
  tableLockAttempts?: number
  /** What clients may make the engine spend (shapes, snapshots, log bytes): `createSync({ limits })`. */
  limits?: Partial<SyncLimits>
  /** Routing a transaction yields to the event loop after this many ms of work (routing-budget.ts). Default 5. */
  routingSliceMs?: number
  log?: (message: string) => void
}


/** Entry point of embedded mode: `await EmbeddedEngine.start({ databaseUrl })`. */
export class EmbeddedEngine implements ShapeSource {
  private readonly shapes = new Map<string, Promise<ShapeLog>>()
  private readonly routes = new Map<string, TableRoute>()
  private readonly wheres = new WeakMap<ShapeLog, CompiledWhere | undefined>()
  private replication!: ReplicationStream
  private publisher!: Publisher
  private slot!: SlotGuard
  private lockClient!: pg.Client
  private sweeper: NodeJS.Timeout | undefined
  private catalogWatch: CatalogWatch | undefined
  private readonly vanished = new VanishedTables()
  private readonly freshTables: FreshTables
  /** OIDs of tables dropped or replaced under their name, seen in catalog reads. */
  private readonly retired = new Set<number>()
  /** What the walsender sends of generated columns, and the server's major version. */
  private generated = { publishesStored: false, pgMajor: 0 }
  private partitionWatch: NodeJS.Timeout | undefined
  private closed = false
  private handleCounter = 0
  private appliedWaiters: (() => void)[] = []
  /**
   * Logs created while a transaction is being routed (in one of its pauses): that transaction committed
   * before their snapshot began, so it is in the snapshot and none of its changes go to their logs.
   */
  private joinedMidTransaction: Set<ShapeLog> | undefined
  /** Small transactions that commit behind a large one, applied at once where that is provably safe. */
  private readonly lane = new FastLane({
    routeOf: (relation) => this.routes.get(`${relation.namespace}.${relation.table}`),
    whereOf: (log) => this.wheres.get(log),
    onOverRetention: (log) => this.drop(log, 'retention'),
  })
  private readonly opts: Required<Omit<EngineOptions, 'log' | 'limits'>> & { log: (m: string) => void }
  private readonly limits: Readonly<SyncLimits>
  private readonly budget: LogBudget
  private readonly snapshots: SnapshotGate
  /** Snapshots' own connections (see snapshot-gate.ts). */
  private readonly snapshotPool: pg.Pool

  private constructor(options: EngineOptions, private readonly pool: pg.Pool, database: string) {
    this.opts = {
      slotName: `trpc_sync_${database.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63),
      publicationName: 'trpc_sync_publication',
      temporarySlot: false,
      chunkBytes: 10 * 1024 * 1024,
      maxLogEntries: 100_000,
      idleTimeoutMs: 5 * 60_000,
      readLimit: 1000,
      liveTimeoutMs: 20_000,
      poolSize: 4,
      lockTimeoutMs: 15_000,
      tableLockTimeoutMs: 3000,
      tableLockAttempts: 3,
      routingSliceMs: 5,
      catalogCheckMs: 10_000,
      log: () => {},
      ...options,
    }
    this.freshTables = new FreshTables(pool)
    this.limits = resolveLimits(options.limits)
    this.budget = new LogBudget(this.limits.logBytes, () => this.liveLogs(), (log) => this.evict(log, 'its memory (limit logBytes)'))
    this.snapshots = new SnapshotGate(this.limits.concurrentSnapshots, this.limits.queuedSnapshots)
    const snapshotConnections = Number.isFinite(this.limits.concurrentSnapshots) ? this.limits.concurrentSnapshots : this.opts.poolSize
    this.snapshotPool = new pg.Pool({ connectionString: options.databaseUrl, max: snapshotConnections })
    this.snapshotPool.on('error', () => {})
  }

  static async start(options: EngineOptions): Promise<EmbeddedEngine> {
    const database = new URL(options.databaseUrl).pathname.slice(1) || 'postgres'
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 4 })
    pool.on('error', () => {}) // idle clients dropped by a restart: the next query reconnects
    const engine = new EmbeddedEngine(options, pool, decodeURIComponent(database))
    try {
      await engine.startReplication()
    } catch (error) {
      await pool.end().catch(() => {})
      await engine.snapshotPool.end().catch(() => {})
      throw error
    }
    return engine
  }

  private async startReplication(): Promise<void> {
    const { slotName, publicationName, databaseUrl } = this.opts
    const { lock, published } = await preflight(this.pool, databaseUrl, slotName, publicationName, this.opts.lockTimeoutMs)
    this.holdLock(lock)
    this.slot = new SlotGuard(this.pool, slotName, () => this.rotate({}, 'error'), this.opts.log, () => this.wakeAppliedWaiters())
    this.generated = await publishGeneratedColumns(this.pool, publicationName, this.opts.log)
    this.publisher = new Publisher(this.pool, {
      publication: publicationName, lockTimeoutMs: this.opts.tableLockTimeoutMs, lockAttempts: this.opts.tableLockAttempts,
    }, published, (namespace, table) => this.partitionsChanged(namespace, table))
    this.replication = new ReplicationStream({
      connectionString: databaseUrl,
      sessionOptions: Object.entries(displaySettings).map(([k, v]) => `-c ${k}=${v.replaceAll(' ', '')}`).join(' '),
      slotName,
      publicationName,
      onTransaction: async (tx) => {
        await applyGuarded(tx, (t) => this.apply(t), (table) => this.rotate(table, 'error'), this.opts.log)
        this.wakeAppliedWaiters()
      },
      onArrival: (tx, behind) => this.lane.arrived(tx, behind),
      onRelation: (relation) => this.relationChanged(relation),
      wantsRelation: (relation) => this.routes.has(`${relation.namespace}.${relation.table}`),
      onFailure: async (error) => {
        const restartAt = await this.slot.check(error)
        if (restartAt !== undefined) this.lane.reset()
        return restartAt
      },
      onStatus: ({ connected, error }) => this.opts.log(connected ? 'replication connected' : `replication lost: ${error?.message}`),
    })
    await this.replication.start()
    this.sweeper = setInterval(() => this.sweepIdle(), Math.min(30_000, this.opts.idleTimeoutMs)).unref()
    this.catalogWatch = new CatalogWatch(this.pool, () => [...this.routes.values()].map((r) => r.table), (known, current) => {
      if (!current) this.vanished.mark(`${known.namespace}.${known.table}`)
      this.tableChanged(known, current ?? null)
    })
    this.catalogWatch.start(this.opts.catalogCheckMs)
    this.partitionWatch = setInterval(() => void this.publisher.checkPartitionSets().catch(() => {}), partitionCheckMs).unref()
  }

  /** Runs before the stream records the new position: let flush() waiters re-check on the next tick. */
  private wakeAppliedWaiters(): void {
    const waiters = this.appliedWaiters.splice(0)
    if (waiters.length) setImmediate(() => { for (const w of waiters) w() })
  }

  /** Keeps the slot's advisory lock: a dropped lock connection (a restart) reconnects and locks again. */
  private holdLock(client: pg.Client): void {
    this.lockClient = client
    client.on('error', () => {}) // a dead connection can report more than once; reconnect once
    client.once('error', async (error) => {
      this.opts.log(`lock connection lost: ${error.message}`)
      for (let delay = 100; !this.closed; delay = Math.min(delay * 2, 5000)) {
        await new Promise((r) => setTimeout(r, delay))
        const next = new pg.Client({ connectionString: this.opts.databaseUrl })
        next.on('error', () => {})
        try {
          await next.connect()
          await next.query(`SELECT pg_advisory_lock(hashtext($1))`, [this.opts.slotName])
          if (this.closed) await next.end()
          else this.holdLock(next)
          return
        } catch {
          await next.end().catch(() => {})
        }
      }
    })
  }

  async fetch(definition: ShapeDefinition & { changesOnly?: boolean }, request: FetchRequest): Promise<FetchResult> {
    const changesOnly = request.changesOnly ?? definition.changesOnly ?? false
    const log = await this.requestedLog(definition, changesOnly, request.handle)
    if (!(log instanceof ShapeLog)) return log
    if (request.handle !== undefined && request.handle !== log.handle) return { status: 'must-refetch', handle: log.handle }
    log.activeReaders++
    try {
      if (request.offset === 'now') return this.ok(log, undefined, log.latestOffset, true)
      const after = parseOffset(request.offset)
      if (!after) throw new EngineError('offset', 'has invalid format')
      // `<lsn + 1>_0` is where an SSE client resumes after a transaction at `lsn` (http/sse.ts).
      if (after.tx > this.replication.lastAppliedLsn + 1n && after.tx > log.latestOffset.tx + 1n) {
        throw new EngineError('offset', 'out of bounds for this shape')
      }
      // Rotated while this request waited for it (its chunks are gone): the reader starts over.
      let read = log.rotated ? undefined : log.read(after)
      if (read && request.live && read.count === 0) {
        await log.waitForChange(request.liveTimeout ?? this.opts.liveTimeoutMs, request.signal)
        while (heldTooLong()) await nextTurn(request.turnGroup)
        if (!log.rotated) read = log.read(after)
      }
      if (log.rotated || !read) {
        return { status: 'must-refetch', handle: (await this.requestedLog(definition, changesOnly, log.handle, true)).handle }
      }
      return this.ok(log, read, read.offset, read.upToDate)
    } finally {
      log.activeReaders--
    }
  }

  /** A response of log entries; one that reaches the end of the log ends with up-to-date. */
  private ok(log: ShapeLog, read: ReadResult | undefined, offset: LogOffset, isUpToDate: boolean): FetchResult {
    return logResponse(log, read, formatOffset(offset), isUpToDate ? this.replication.lastAppliedLsn : undefined)
  }

  /** A subset snapshot (Electric's `subset__*`): the shape's rows matching the request, with the snapshot's bounds. */
  async subset(definition: ShapeDefinition, request: SubsetRequest): Promise<SubsetResult> {
    const log = await this.requestedLog(definition, request.changesOnly ?? false, request.handle)
    if (!(log instanceof ShapeLog)) return log
    if (request.handle !== undefined && request.handle !== log.handle) return { status: 'must-refetch', handle: log.handle }
    // A snapshot too, bounded the same way: a turn of the gate, on the snapshots' pool.
    const release = await this.snapshots.acquire()
    try {
      const offset = formatOffset(log.latestOffset)
      const { metadata, messages } = await querySubset(this.snapshotPool, log, request, this.limits.subsetBytes)
      return { status: 'ok', handle: log.handle, offset, metadata, messages, schema: log.schema }
    } catch (error) {
      if (!(error instanceof TableChangedError)) throw error
      // As for a fetch: the table went missing or changed under the shape; the client refetches.
      this.vanished.mark(`${log.table.namespace}.${log.table.table}`)
      this.tableChanged(log.table)
      return { status: 'must-refetch', handle: this.newHandle(definition) }
    } finally {
      release()
    }
  }

  /**
   * The log a request reads, or must-refetch with a new handle (as Electric answers) when the table is
   * changing under the shape (dropped or altered during the snapshot), or is missing for a client that
   * had a handle or went missing under live shapes not long ago (`VanishedTables`): the client refetches,
   * and finds the recreated table, or after the grace period the 400 that names the missing one.
   * `hadLog`: `handle` is that of a log this engine had.
   */
  private async requestedLog(
    definition: ShapeDefinition & { changesOnly?: boolean }, changesOnly: boolean, handle: string | undefined, hadLog = false,
  ): Promise<ShapeLog | { status: 'must-refetch'; handle: string }> {
    try {
      return await this.shapeLog(definition, changesOnly)
    } catch (error) {
      const name = `${definition.namespace}.${definition.table}`
      if (error instanceof EngineError && error.field === 'table') {
        // Shapes of it are live, or this request comes from one: the table had shapes here and is gone.
        const route = this.routes.get(name)
        if (route || hadLog) this.vanished.mark(name)
        if (route) this.tableChanged(route.table, null)
        if (handle === undefined && !this.vanished.has(name)) throw error
      } else if (error instanceof TableChangedError) {
        this.vanished.mark(name)
      } else {
        throw error
      }
      return { status: 'must-refetch', handle: this.newHandle(definition) }
    }
  }

  /** The handle of a definition's current log, if it has one; never creates a log. */
  async existingHandle(definition: ShapeDefinition & { changesOnly?: boolean }): Promise<string | undefined> {
    const log = await this.shapes.get(canonicalKey(definition))?.catch(() => undefined)
    return log && !log.rotated ? log.handle : undefined
  }

  /** The current log of a definition, created (and snapshotted) on first use. */
  async shapeLog(definition: ShapeDefinition & { changesOnly?: boolean }, changesOnly = definition.changesOnly ?? false): Promise<ShapeLog> {
    if (this.closed) throw new EngineError('database', 'the sync engine is closed')
    const key = canonicalKey(definition, changesOnly)
    for (;;) {
      let pending = this.shapes.get(key)
      if (!pending) {
        this.admitShape()
        pending = this.createLog({ ...definition, changesOnly })
        this.shapes.set(key, pending)
        pending.catch(() => { if (this.shapes.get(key) === pending) this.shapes.delete(key) })
      }
      const log = await pending
      if (!log.rotated) return log
      if (this.shapes.get(key) === pending) this.shapes.delete(key)
    }
  }

  /** Rotates every shape whose definition matches (all shapes of a table, or one handle). */
  rotate(match: { namespace?: string; table?: string; handle?: string }, reason: RotationReason = 'deleted'): number {
    let count = 0
    for (const route of this.routes.values()) {
      for (const log of [...route.logs]) {
        if (match.handle !== undefined && log.handle !== match.handle) continue
        if (match.table !== undefined && log.table.table !== match.table) continue
        if (match.namespace !== undefined && log.table.namespace !== match.namespace) continue
        this.drop(log, reason)
        count++
      }
    }
    return count
  }

  /**
   * Resolves once every transaction committed before the call is in the shape logs: writes a logical
   * message into the WAL and waits for the replication stream to pass it. Rejects when the replication
   * slot was lost and cannot be created again (it resolves once it is, as the shapes were rotated).
   */
  async flush(): Promise<bigint> {
    const { rows } = await this.pool.query<{ lsn: string }>(`SELECT pg_logical_emit_message(true, 'trpc_sync', 'flush')::text AS lsn`)
    const target = lsnToBigInt(rows[0]!.lsn)
    while (this.replication.lastAppliedLsn < target) {
      if (this.closed) throw new EngineError('database', 'the sync engine is closed')
      if (this.slot.failure) {
        throw new EngineError('database', `the replication slot "${this.opts.slotName}" was lost and cannot be created again: ${this.slot.failure.message}`)
      }
      await new Promise<void>((resolve) => this.appliedWaiters.push(resolve))
    }
    return this.replication.lastAppliedLsn
  }

  /**
   * Live shape logs, their retained entries, the definitions known (live or being created), the heap
   * all logs hold (bytes, see limits.logBytes), and the snapshots waiting for their turn.
   */
  stats(): { shapes: number; entries: number; definitions: number; logBytes: number; queuedSnapshots: number; fastLaneTransactions: number } {
    let shapes = 0
    let entries = 0
    for (const route of this.routes.values()) {
      shapes += route.logs.size
      for (const log of route.logs) entries += log.entryCount
    }
    return { shapes, entries, definitions: this.shapes.size, logBytes: this.budget.total, queuedSnapshots: this.snapshots.queueLength, fastLaneTransactions: this.lane.count }
  }

  /** At `limits.shapes`, a new shape takes the place of the coldest idle one, or is refused (429). */
  private admitShape(): void {
    if (this.shapes.size < this.limits.shapes) return
    const idle = coldestIdle(this.liveLogs())
    if (!idle) throw new LimitError('shapes', this.limits.shapes, 'The server holds as many shapes as it may; retry later', 429)
    this.evict(idle, 'the limit of shapes (limit shapes)')
    this.shapes.delete(canonicalKey(idle.definition)) // its place is free now, not once its creation promise settles
  }

  private *liveLogs(): Iterable<ShapeLog> {
    for (const route of this.routes.values()) yield* route.logs
  }

  private evict(log: ShapeLog, why: string): void {
    this.opts.log(`evicting shape ${log.handle} (${log.heapBytes} bytes, unused for ${Date.now() - log.lastUsed} ms) for ${why}; readers refetch`)
    this.drop(log, 'evicted')
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.snapshots.close()
    clearInterval(this.sweeper)
    this.catalogWatch?.stop()
    clearInterval(this.partitionWatch)
    for (const wake of this.appliedWaiters.splice(0)) wake()
    for (const route of this.routes.values()) for (const log of [...route.logs]) this.drop(log, 'closed')
    await this.replication?.stop()
    if (this.opts.temporarySlot) {
      await dropSlot(this.pool, this.opts.slotName).catch((e: Error) => this.opts.log(`could not drop slot: ${e.message}`))
    }
    await this.lockClient?.end().catch(() => {})
    await this.pool.end().catch(() => {})
    await this.snapshotPool.end().catch(() => {})
  }

  private async createLog(definition: ShapeDefinition & { changesOnly?: boolean }): Promise<ShapeLog> {
    await this.slot.ready() // a snapshot taken before the slot exists again could miss changes
    // Always a fresh catalog read: the table may have been recreated or its enums extended since the route's.
    const table = await this.freshTables.read(definition.namespace, definition.table)
    const columns = selectColumns(table, definition.columns)
    const where = definition.where ? compileWhereFor(table, definition.where, definition.params ?? []) : undefined
    refuseUnsentColumns(table, { selected: [...columns, ...table.primaryKey], where: where?.referencedColumns ?? [] },
      this.generated.publishesStored, this.generated.pgMajor)
    await this.publisher.ensure(table).catch((error: unknown) => {
      throw isTableChange(error) ? new TableChangedError(table) : error
    })
    const release = await this.snapshots.acquire()
    try {
      return await this.snapshotLog(definition, table, columns, where)
    } finally {
      release()
    }
  }

  /** Creates the log, routes changes to it, and loads its snapshot (on one of the snapshot gate's turns). */
  private async snapshotLog(
    definition: ShapeDefinition & { changesOnly?: boolean }, table: TableInfo, columns: string[], where: CompiledWhere | undefined,
  ): Promise<ShapeLog> {
    const log = new ShapeLog(this.newHandle(definition), definition, table, columns, {
      chunkBytes: this.opts.chunkBytes,
      chunkEntries: this.opts.readLimit,
      maxEntries: this.opts.maxLogEntries,
      onHeapBytes: (changed, delta) => this.budget.charge(changed, delta),
    })
    const current = this.routes.get(`${table.namespace}.${table.table}`)?.table
    if (current && !sameTable(current, table)) this.tableChanged(current, table)
    const route = this.route(table)
    route.logs.add(log)
    route.index.add(log, where)
    this.joinedMidTransaction?.add(log)
    this.wheres.set(log, where)
    try {
      await takeSnapshot(this.snapshotPool, {
        table, columns, where: definition.where, params: definition.params, boundsOnly: definition.changesOnly,
      }, (bounds, rows) => log.loadSnapshot(rows, bounds))
    } catch (error) {
      this.drop(log, 'error')
      const translated = translateSnapshotError(error, table)
      if (translated.cause === error) this.opts.log(`shape ${log.handle} of ${qualified(table.namespace, table.table)}: Postgres refused its query: ${(error as Error).message}`)
      throw translated
    }
    log.finishSnapshot()
    log.lastUsed = Date.now() // idle time counts from when the shape could first be read
    return log
  }

  private route(table: TableInfo): TableRoute {
    const name = `${table.namespace}.${table.table}`
    let route = this.routes.get(name)
    if (!route) {
      route = { table, index: new FilterIndex<ShapeLog>(), logs: new Set(), unknownLabel: unknownLabelCheck(table) }
      this.routes.set(name, route)
    }
    return route
  }

  /**
   * The table under this name is no longer the one its shapes were built on: rotate them. `current`, from
   * a catalog read (null: the table is gone), retires the old OID if the table is another one now: changes
   * to the old table still in the stream are then skipped, not taken for news of a new table.
   */
  private tableChanged(known: TableInfo, current?: TableInfo | null): void {
    if (current !== undefined && current?.oid !== known.oid) this.retired.add(known.oid)
    if (this.routes.get(`${known.namespace}.${known.table}`)?.table !== known) return // rotated already
    this.rotate({ namespace: known.namespace, table: known.table }, 'schema-change')
  }

  private drop(log: ShapeLog, reason: RotationReason): void {
    log.rotate(reason)
    this.forget(log)
    const name = `${log.table.namespace}.${log.table.table}`
    const route = this.routes.get(name)
    if (!route) return
    route.logs.delete(log)
    route.index.remove(log)
    if (route.logs.size === 0) this.routes.delete(name)
  }

  /** Removes a rotated log's definition from `shapes` (once its creation settled), so dead ones do not pile up. */
  private forget(log: ShapeLog): void {
    const key = canonicalKey(log.definition)
    const pending = this.shapes.get(key)
    pending?.then((current) => { if (current === log && this.shapes.get(key) === pending) this.shapes.delete(key) }, () => {})
  }

  /** Routes one committed transaction into the logs of the shapes it touches, in slices (routing-budget.ts). */
  private async apply(tx: Transaction): Promise<void> {
    if (!this.lane.begin(tx)) return // the fast lane applied it already
    this.joinedMidTransaction = new Set()
    try {
      await routeTransaction(tx, new SliceBudget(this.opts.routingSliceMs), {
        routeOf: (relation) => this.routes.get(`${relation.namespace}.${relation.table}`),
        joined: this.joinedMidTransaction,
        lane: this.lane,
        retired: this.retired,
        rotate: (table, reason) => this.rotate(table, reason),
        tableChanged: (table) => this.tableChanged(table),
        drop: (log, reason) => this.drop(log, reason),
        log: this.opts.log,
      })
    } finally {
      this.joinedMidTransaction = undefined
      this.lane.end(tx)
    }
  }

  /** A Relation message for another table or other columns than the shapes were built on: rotate them. */
  private relationChanged(relation: RelationInfo): void {
    const route = this.routes.get(`${relation.namespace}.${relation.table}`)
    if (this.retired.has(relation.oid)) return // a dropped table's last changes
    if (route && !relationMatches(route.table, relation, this.generated.publishesStored)) this.tableChanged(route.table)
  }

  /** Partition DDL and single-partition TRUNCATE are not replicated: rotate the shapes of a table they changed. */
  private partitionsChanged(namespace: string, table: string): void {
    if (this.closed || this.rotate({ namespace, table }, 'schema-change') === 0) return
    this.opts.log(`rotated the shapes of ${qualified(namespace, table)}: its partitions changed (ATTACH, DETACH, DROP or TRUNCATE of a partition)`)
  }

  private sweepIdle(): void {
    const cutoff = Date.now() - this.opts.idleTimeoutMs
    for (const route of this.routes.values()) {
      for (const log of [...route.logs]) {
        // A log whose snapshot still runs has no reader yet: sweeping it would restart the snapshot.
        if (log.ready && log.activeReaders === 0 && log.lastUsed < cutoff) this.drop(log, 'closed')
      }
    }
  }

  private newHandle(definition: ShapeDefinition): string {
    const hash = createHash('sha1').update(canonicalKey(definition)).digest().readUInt32BE(0)
    return `${hash}-${Date.now() * 1000 + (this.handleCounter++ % 1000)}`
  }
}

/** How often partitioned tables are checked for partition changes Postgres does not replicate. */
const partitionCheckMs = 1000
