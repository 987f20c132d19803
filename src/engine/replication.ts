// Streams committed transactions from a logical replication slot (pgoutput), in commit order.
// Acknowledges a transaction only after `onTransaction` resolved for it (it is in the shape logs),
// answers keepalives with that position, and reconnects with backoff when the connection drops.
// Transactions at or before the last applied one are skipped, so a reconnect never applies twice.
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication'
import { bigIntToLsn, lsnToBigInt } from './lsn.js'
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
  private stopped = false
  private appliedLsn = 0n
  private appliedEndLsn = '0/0'
  private current: Transaction | undefined
  private queue: Transaction[] = []
  private draining = false
  private retryDelay = 100
  private relations = new Map<number, RelationInfo>()
  private connectedOnce: { resolve(): void; reject(e: Error): void } | undefined

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
    this.current = undefined
    let failed = false
    const fail = (error: Error) => {
      if (failed || this.stopped) return
      failed = true
      this.options.onStatus?.({ connected: false, error })
      if (this.connectedOnce && this.retryDelay > 5000) {
        // Never connected: report to start() instead of retrying forever.
        this.connectedOnce.reject(error)
        this.connectedOnce = undefined
        void service.destroy().catch(() => {})
        return
      }
      void service.destroy().catch(() => {})
      const delay = this.retryDelay
      this.retryDelay = Math.min(this.retryDelay * 2, 5000)
      setTimeout(() => void this.connect(), delay).unref()
    }
    service.on('error', fail)
    service.on('start', () => {
      this.retryDelay = 100
      this.options.onStatus?.({ connected: true })
      this.connectedOnce?.resolve()
      this.connectedOnce = undefined
    })
    service.on('heartbeat', (walEnd: string, _ts: number, shouldRespond: boolean) => {
      if (!shouldRespond) return
      // With nothing received and unapplied, everything up to the server's WAL end is done: confirming
      // it lets Postgres recycle WAL and lets its walsender finish a shutdown.
      const idle = this.current === undefined && this.queue.length === 0 && !this.draining
      this.acknowledge(idle && lsnToBigInt(walEnd) > lsnToBigInt(this.appliedEndLsn) ? walEnd : this.appliedEndLsn)
    })
    service.on('data', (_lsn: string, message: Pgoutput.Message) => this.receive(message))
    const startLsn = this.appliedLsn > 0n ? this.appliedEndLsn : '0/0'
    service
      .subscribe(textPgoutputPlugin(this.options.publicationName), this.options.slotName, startLsn)
      .then(
        () => fail(new Error('replication connection closed')),
        (error: Error) => fail(error),
      )
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
        this.options.onRelation(relation)
        return
      }
      case 'insert':
        this.current?.changes.push({ kind: 'insert', relation: this.relationOf(message.relation), record: message.new as TextRow })
        return
      case 'update':
        this.current?.changes.push({
          kind: 'update',
          relation: this.relationOf(message.relation),
          old: (message.old as TextRow | null) ?? null,
          record: message.new as TextRow,
        })
        return
      case 'delete':
        this.current?.changes.push({
          kind: 'delete',
          relation: this.relationOf(message.relation),
          old: (message.old as TextRow | null) ?? null, // `key` alone (identity not FULL) is not enough to route
        })
        return
      case 'truncate':
        this.current?.changes.push({ kind: 'truncate', relations: message.relations.map((r) => this.relationOf(r)) })
        return
      case 'commit': {
        const tx = this.current
        this.current = undefined
        if (!tx) return
        tx.endLsn = message.commitEndLsn!
        if (tx.lsn <= this.appliedLsn) return // already applied before a reconnect
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
    void (async () => {
      try {
        while (this.queue.length > 0 && !this.stopped) {
          const tx = this.queue.shift()!
          await this.options.onTransaction(tx)
          this.appliedLsn = tx.lsn
          this.appliedEndLsn = tx.endLsn
          if (this.queue.length === 0) this.acknowledge(tx.endLsn)
          if (this.queue.length <= limit / 2) stream?.resume()
        }
      } finally {
        this.draining = false
      }
    })()
  }
}
