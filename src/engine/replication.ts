// Streams committed transactions from a logical replication slot (pgoutput), in commit order.
// Acknowledges a transaction only after `onTransaction` resolved for it (it is in the shape logs; the
// updates are coalesced, see status-updates.ts), answers keepalives with that position, and reconnects
// with backoff when the connection drops.
// Transactions at or before the last applied one are skipped, so a reconnect never applies twice.
// Changes of tables nobody wants are dropped as they arrive (pgoutput v1 sends a transaction only once
// it committed, so a shape created later has them in its snapshot), so a large transaction on an
// unsynced table costs no memory. A failed `onTransaction` is never acknowledged: the stream reconnects
// and the transaction is decoded again.
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication'
import { bigIntToLsn, lsnToBigInt } from './lsn.js'
import { StatusUpdates } from './status-updates.js'
import type { RelationInfo, TextRow, Transaction } from './transaction.js'

export interface ReplicationOptions {
  connectionString: string
  /** Session settings for the walsender (`-c name=value ...`): they decide the text form of values. */
  sessionOptions?: string
  slotName: string
  publicationName: string
  onTransaction(tx: Transaction): Promise<void> | void
  /** A Relation message: the table's columns as the walsender sees them now (schema changes). */
  onRelation(relation: RelationInfo): void
  /** Called after each reconnect attempt fails and when the stream is (re)established. */
  onStatus?(status: { connected: boolean; error?: Error }): void
  /**
   * Whether changes of this table can matter to anyone now. Asked as each insert, update or delete
   * arrives; a change nobody wants is dropped (truncates and Relation messages are always kept).
   */
  wantsRelation?(relation: RelationInfo): boolean
  /**
   * Asked after the connection failed, before reconnecting. Resolves to an LSN to restart from when the
   * slot had to be replaced (everything before it is given up on), or undefined to resume as usual.
   */
  onFailure?(error: Error): Promise<string | undefined>
  /**
   * A committed transaction was received, before it is queued; `behind` when earlier ones are still
   * being applied (the engine's fast lane, fast-lane.ts, may apply it at once).
   */
  onArrival?(tx: Transaction, behind: boolean): void
  /** Queued transactions above which the socket is paused until they are applied. */
  maxQueuedTransactions?: number
}

const identity = (value: unknown) => value

/**
 * pgoutput decoding that keeps every value in Postgres text form (no JS type parsing). Logical messages
 * are on so `EmbeddedEngine.flush()` can mark a point in the WAL.
 */
function textPgoutputPlugin(publicationName: string): PgoutputPlugin {
  const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [publicationName], messages: true })
  const parser = (plugin as unknown as { parser: { readRelationColumn(reader: unknown): Pgoutput.RelationColumn } }).parser
  const readRelationColumn = parser.readRelationColumn.bind(parser)
  parser.readRelationColumn = (reader) => ({ ...readRelationColumn(reader), parser: identity })
  return plugin
}

export class ReplicationStream {
  private service: LogicalReplicationService | undefined
  /** The current connection's confirmed-position updates. */
  private status: StatusUpdates | undefined
  private stopped = false
  private appliedLsn = 0n
  private appliedEndLsn = '0/0'
  private current: Transaction | undefined
  private queue: Transaction[] = []
  private draining = false
  private retryDelay = 100
  private relations = new Map<number, RelationInfo>()
  private connectedOnce: { resolve(): void; reject(e: Error): void } | undefined
  /** Ends the current connection and reconnects (once per connection). */
  private failConnection: ((error: Error) => void) | undefined

  constructor(private readonly options: ReplicationOptions) {}

  /** Connects and starts streaming from the slot's confirmed position; resolves once streaming. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.connectedOnce = { resolve, reject }
      void this.connect()
    })
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.status?.flush() // what is applied is confirmed before the connection closes
    await this.service?.destroy().catch(() => {})
    this.service = undefined
  }

  /** LSN of the last transaction applied (0 before any). */
  get lastAppliedLsn(): bigint {
    return this.appliedLsn
  }

  private async connect(): Promise<void> {
    if (this.stopped) return
    const service = new LogicalReplicationService(
      { connectionString: this.options.connectionString, options: this.options.sessionOptions },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: false } },
    )
    this.service = service
    this.status?.stop()
    const status = new StatusUpdates((lsn) => this.acknowledge(lsn))
    this.status = status
    this.current = undefined
    let failed = false
    const fail = (error: Error) => {
      if (failed || this.stopped) return
      failed = true
      if (this.service === service) this.service = undefined // what it still delivers is ignored
      status.stop()
      this.options.onStatus?.({ connected: false, error })
      if (this.connectedOnce && this.retryDelay > 5000) {
        // Never connected: report to start() instead of retrying forever.
        this.connectedOnce.reject(error)
        this.connectedOnce = undefined
        void service.destroy().catch(() => {})
        return
      }
      void service.destroy().catch(() => {})
      void this.reconnect(error)
    }
    this.failConnection = fail
    service.on('error', fail)
    service.on('start', () => {
      this.retryDelay = 100
      this.options.onStatus?.({ connected: true })
      this.connectedOnce?.resolve()
      this.connectedOnce = undefined
    })
    service.on('heartbeat', (walEnd: string, _ts: number, shouldRespond: boolean) => {
      if (!shouldRespond || this.service !== service) return
      // With nothing received and unapplied, everything up to the server's WAL end is done: confirming
      // it lets Postgres recycle WAL and lets its walsender finish a shutdown.
      const idle = this.current === undefined && this.queue.length === 0 && !this.draining
      status.reply(idle && lsnToBigInt(walEnd) > lsnToBigInt(this.appliedEndLsn) ? walEnd : this.appliedEndLsn)
    })
    service.on('data', (_lsn: string, message: Pgoutput.Message) => {
      if (this.service === service) this.receive(message)
    })
    const startLsn = this.appliedLsn > 0n ? this.appliedEndLsn : '0/0'
    service
      .subscribe(textPgoutputPlugin(this.options.publicationName), this.options.slotName, startLsn)
      .then(
        () => fail(new Error('replication connection closed')),
        (error: Error) => fail(error),
      )
  }

  /** Reconnects with backoff, or at once from a new position when `onFailure` replaced the slot. */
  private async reconnect(error: Error): Promise<void> {
    let restartAt: string | undefined
    try {
      restartAt = await this.options.onFailure?.(error)
    } catch (failure) {
      this.options.onStatus?.({ connected: false, error: failure as Error })
    }
    if (this.stopped) return
    if (restartAt !== undefined) {
      this.queue = []
      this.current = undefined
      this.appliedLsn = lsnToBigInt(restartAt)
      this.appliedEndLsn = restartAt
      this.retryDelay = 100
      void this.connect()
      return
    }
    const delay = this.retryDelay
    this.retryDelay = Math.min(this.retryDelay * 2, 5000)
    setTimeout(() => void this.connect(), delay).unref()
  }

  /** The change's relation, or undefined when nobody wants its changes. */
  private wanted(relation: Pgoutput.MessageRelation): RelationInfo | undefined {
    const info = this.relationOf(relation)
    return this.options.wantsRelation && !this.options.wantsRelation(info) ? undefined : info
  }

  private receive(message: Pgoutput.Message): void {
    switch (message.tag) {
      case 'begin':
        this.current = { xid: message.xid, lsn: lsnToBigInt(message.commitLsn!), endLsn: '', changes: [] }
        return
      case 'relation': {
        const relation: RelationInfo = {
          oid: message.relationOid,
          namespace: message.schema,
          table: message.name,
          columns: message.columns.map((c) => ({ name: c.name, typeOid: c.typeOid, typeMod: c.typeMod })),
        }
        this.relations.set(relation.oid, relation)
        try {
          this.options.onRelation(relation)
        } catch (error) {
          this.failConnection?.(error as Error) // not handled, so nothing after it is acknowledged
        }
        return
      }
      case 'insert': {
        const relation = this.wanted(message.relation)
        if (relation) this.current?.changes.push({ kind: 'insert', relation, record: message.new as TextRow })
        return
      }
      case 'update': {
        const relation = this.wanted(message.relation)
        if (relation) {
          this.current?.changes.push({ kind: 'update', relation, old: (message.old as TextRow | null) ?? null, record: message.new as TextRow })
        }
        return
      }
      case 'delete': {
        const relation = this.wanted(message.relation)
        // `key` alone (identity not FULL) is not enough to route: the engine rotates on a null `old`.
        if (relation) this.current?.changes.push({ kind: 'delete', relation, old: (message.old as TextRow | null) ?? null })
        return
      }
      case 'truncate':
        this.current?.changes.push({ kind: 'truncate', relations: message.relations.map((r) => this.relationOf(r)) })
        return
      case 'commit': {
        const tx = this.current
        this.current = undefined
        if (!tx) return
        tx.endLsn = message.commitEndLsn!
        if (tx.lsn <= this.appliedLsn) return // already applied before a reconnect
        try {
          this.options.onArrival?.(tx, this.draining || this.queue.length > 0)
        } catch (error) {
          this.failConnection?.(error as Error) // not applied, so not acknowledged: it arrives again
          return
        }
        this.queue.push(tx)
        this.drain()
        return
      }
      default:
        return
    }
  }

  private relationOf(message: Pgoutput.MessageRelation): RelationInfo {
    // pgoutput sends a Relation message before the first change of each table on a connection.
    return this.relations.get(message.relationOid)!
  }

  /**
   * Confirms everything before `lsn` as received, flushed and applied. The library reports `lsn + 1`
   * (it treats its argument as the last byte); Postgres expects the position after the last byte, which
   * is what `lsn` already is, and a walsender finishing a shutdown waits for exactly that.
   */
  private acknowledge(lsn: string): void {
    const value = lsnToBigInt(lsn)
    if (value > 0n) void this.service?.acknowledge(bigIntToLsn(value - 1n))
  }

  private drain(): void {
    const limit = this.options.maxQueuedTransactions ?? 1000
    const stream = (this.service as unknown as { _connection?: { stream?: { pause(): void; resume(): void } } })?._connection?.stream
    if (this.queue.length > limit) stream?.pause()
    if (this.draining) return
    this.draining = true
    const service = this.service
    void (async () => {
      try {
        while (this.queue.length > 0 && !this.stopped) {
          const tx = this.queue.shift()!
          await this.options.onTransaction(tx)
          if (tx.lsn <= this.appliedLsn) continue // the slot was replaced meanwhile: restarted past it
          this.appliedLsn = tx.lsn
          this.appliedEndLsn = tx.endLsn
          if (service === this.service) this.status?.applied(tx.endLsn)
          if (this.queue.length <= limit / 2) stream?.resume()
        }
      } catch (error) {
        // Not applied, so not acknowledged: reconnect and receive it again from the last applied one.
        this.queue = []
        if (service === this.service) this.failConnection?.(error as Error)
      } finally {
        this.draining = false
      }
    })()
  }
}
