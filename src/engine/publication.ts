// Publishing a table for its shapes. Invariant: before a shape of a table takes its snapshot, the table
// and every partition of it have REPLICA IDENTITY FULL (so each update and delete carries the whole old
// row), the table is in the publication, and no transaction that wrote to it before it was published is
// still open (its changes would be in neither the snapshot nor the stream: ALTER PUBLICATION does not
// wait for writers). Kept by one serialized `ensure` per table, so concurrent shapes of a table all
// wait for the same publish. Every DDL runs in its own transaction with a short lock_timeout, retried
// a bounded number of times, so the engine never queues the table's other queries behind it for long.
// Postgres does not replicate ATTACH / DETACH / DROP of a partition nor TRUNCATE of one partition:
// each partitioned table's partitions and their storage (relfilenode, which TRUNCATE replaces) are recorded
// before each snapshot and polled (`checkPartitionSets`); a difference calls `onPartitionsChanged`, so the
// engine rotates the shapes that missed it.
import type pg from 'pg'
import { qualified, quoteIdent, type TableInfo } from './catalog.js'
import { EngineError } from './errors.js'

export interface PublicationOptions {
  publication: string
  /** lock_timeout of each ALTER, and the bound of each wait for open writers, ms. */
  lockTimeoutMs: number
  /** Attempts before a shape fails because a long transaction holds the table. */
  lockAttempts: number
}

/**
 * A long transaction holds the table: retrying later can succeed, so it is transient (streams retry it,
 * endpoints answer 503), and its message, written for clients, names the table.
 */
export class TableBusyError extends Error {
  override readonly name = 'TableBusyError'
  readonly transient = true
  readonly clientCode = 'table_locked'
}

/** Creates the publication (or alters it to publish via partition roots); returns the tables it already has. */
export async function preparePublication(db: pg.Pool, publication: string): Promise<Set<number>> {
  const name = quoteIdent(publication)
  await db.query(`CREATE PUBLICATION ${name} WITH (publish_via_partition_root = true)`).catch((error: { code?: string }) => {
    if (error.code !== '42710') throw error // exists already
  })
  const { rows } = await db.query<{ viaroot: boolean }>(`SELECT pubviaroot AS viaroot FROM pg_publication WHERE pubname = $1`, [publication])
  // Changes of a partition must arrive under the partitioned table's name, where its shapes are routed.
  if (!rows[0]!.viaroot) await db.query(`ALTER PUBLICATION ${name} SET (publish_via_partition_root = true)`)
  const members = await db.query<{ oid: number }>(
    `SELECT (quote_ident(schemaname) || '.' || quote_ident(tablename))::regclass::oid::int AS oid
       FROM pg_publication_tables WHERE pubname = $1`,
    [publication],
  )
  return new Set(members.rows.map((r) => r.oid))
}

export class Publisher {
  /** Per table oid: the last `ensure` call, so the next one runs after it. */
  private readonly queues = new Map<number, Promise<void>>()
  /**
   * Tables in the publication with no writer from before their publish left open: the ones the
   * publication had before the slot was created (creating a slot waits for every open transaction),
   * and those whose wait completed.
   */
  private readonly settled: Set<number>
  /** Partitioned tables with shapes: oid → their partitions and storage when last recorded. */
  private readonly partitionSets = new Map<number, { namespace: string; table: string; signature: string }>()

  constructor(
    private readonly db: pg.Pool, private readonly options: PublicationOptions, published: Set<number>,
    private readonly onPartitionsChanged: (namespace: string, table: string) => void,
  ) {
    this.settled = new Set(published)
  }

  /** Resolves when a shape of `table` may take its snapshot; rejects with an error naming the table. */
  ensure(table: TableInfo): Promise<void> {
    const previous = this.queues.get(table.oid) ?? Promise.resolve()
    const next = previous.catch(() => {}).then(() => this.publish(table))
    this.queues.set(table.oid, next)
    void next.catch(() => {}).then(() => { if (this.queues.get(table.oid) === next) this.queues.delete(table.oid) })
    return next
  }

  private async publish(table: TableInfo): Promise<void> {
    const name = qualified(table.namespace, table.table)
    const { rows } = await this.db.query<{
      schema: string; table: string; partitioned: boolean; foreign: boolean; full: boolean; member: boolean
      rootSchema: string | null; rootTable: string | null; signature: string
    }>(
      `SELECT n.nspname AS schema, c.relname AS table, c.relkind = 'p' AS partitioned, c.relkind = 'f' AS foreign,
              c.relreplident = 'f' AS full, ${signatureSql('$1')} AS signature,
              EXISTS (SELECT 1 FROM pg_publication_tables p WHERE p.pubname = $2
                        AND p.schemaname = n.nspname AND p.tablename = c.relname) AS member,
              rn.nspname AS "rootSchema", r.relname AS "rootTable"
         FROM (SELECT $1::regclass AS relid, 0 AS level UNION SELECT relid, level FROM pg_partition_tree($1)) t -- empty for a plain table
         JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_class r ON t.level = 0 AND c.relispartition AND r.oid = pg_partition_root(t.relid)
         LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
        WHERE c.relkind IN ('r', 'p', 'f')
        ORDER BY t.level`,
      [table.oid, this.options.publication],
    )
    if (rows.length === 0) throw new EngineError('table', `Table ${name} does not exist.`)
    const { rootSchema, rootTable } = rows[0]!
    if (rootSchema !== null && rootTable !== null) {
      const root = qualified(rootSchema, rootTable)
      throw new EngineError('table',
        `Table ${name} is a partition of ${root}: sync the partitioned table ${root} ` +
        `(with a where clause selecting this partition's rows); its changes are published under that name.`)
    }
    const foreign = rows.find((r) => r.foreign)
    if (foreign) {
      throw new EngineError('table',
        `Table ${name} has a foreign-table partition, ${qualified(foreign.schema, foreign.table)}, whose changes Postgres does not replicate.`)
    }
    for (const relation of rows) {
      if (relation.full) continue
      // Takes ACCESS EXCLUSIVE: once it is granted, no transaction that wrote before it is open.
      const relationName = qualified(relation.schema, relation.table)
      await this.ddl(relationName, `ALTER TABLE ${relationName} REPLICA IDENTITY FULL`, 'set replica identity')
    }
    if (!rows[0]!.member) {
      this.settled.delete(table.oid)
      await this.ddl(name, `ALTER PUBLICATION ${quoteIdent(this.options.publication)} ADD TABLE ${name}`, 'add to the publication')
    }
    if (!this.settled.has(table.oid)) {
      await this.waitForWriters(table.oid, name)
      this.settled.add(table.oid)
    }
    // Before the snapshot: shapes taken before a change not replicated since are rotated now.
    if (rows[0]!.partitioned) this.recordPartitions(table.oid, table.namespace, table.table, rows[0]!.signature)
  }

  /** Compares the partitioned tables' partitions and storage with what was recorded. */
  async checkPartitionSets(): Promise<void> {
    if (this.partitionSets.size === 0) return
    const { rows } = await this.db.query<{ oid: number; signature: string | null }>(
      `SELECT t.oid::int AS oid, ${signatureSql('t.oid')} AS signature FROM unnest($1::oid[]) AS t(oid)`,
      [[...this.partitionSets.keys()]],
    )
    for (const { oid, signature } of rows) {
      const known = this.partitionSets.get(oid)
      if (known) this.recordPartitions(oid, known.namespace, known.table, signature)
    }
  }

  private recordPartitions(oid: number, namespace: string, table: string, signature: string | null): void {
    const known = this.partitionSets.get(oid)
    if (signature === null) this.partitionSets.delete(oid) // dropped
    else this.partitionSets.set(oid, { namespace, table, signature })
    if (known && known.signature !== signature) this.onPartitionsChanged(namespace, table)
  }

  /** Runs one DDL statement in its own transaction with the lock timeout, retrying a bounded number of times. */
  private async ddl(name: string, statement: string, action: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.db.connect()
      try {
        await client.query('BEGIN')
        await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${this.options.lockTimeoutMs}ms`])
        await client.query(statement)
        await client.query('COMMIT')
        return
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        const code = (error as { code?: string }).code
        if (code === '42710') return // already in the publication: another engine added it
        if (code === '42501') {
          throw new EngineError('table',
            `The database role cannot ${action} for table ${name} (only the owner of the table, and of the publication, can). ` +
            `Run \`ALTER TABLE ${name} REPLICA IDENTITY FULL;\` and \`ALTER PUBLICATION ${quoteIdent(this.options.publication)} ` +
            `ADD TABLE ${name};\` as the owner, or connect as the owner.`)
        }
        if (code !== '55P03') throw error
        if (attempt >= this.options.lockAttempts) {
          throw new TableBusyError(
            `Cannot ${action} for table ${name}: a long transaction holds a lock on it ` +
            `(gave up after ${attempt} tries of ${this.options.lockTimeoutMs} ms). Retry once it has ended.`)
        }
      } finally {
        client.release()
      }
    }
  }

  /**
   * Waits for the transactions that hold a write lock on the table or a partition now (right after it was
   * published) to end. Polls pg_locks instead of taking a lock, so no other query queues behind the wait.
   */
  private async waitForWriters(oid: number, name: string): Promise<void> {
    const { rows } = await this.db.query<{ vxids: string[] | null }>(
      `SELECT array_agg(DISTINCT l.virtualtransaction) AS vxids FROM pg_locks l
        WHERE l.locktype = 'relation' AND l.granted AND l.pid IS DISTINCT FROM pg_backend_pid()
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND (l.relation = $1 OR l.relation IN (SELECT relid FROM pg_partition_tree($1)))
          AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')`,
      [oid],
    )
    const vxids = rows[0]!.vxids
    if (!vxids) return
    const deadline = Date.now() + this.options.lockTimeoutMs * this.options.lockAttempts
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      const open = await this.db.query(`SELECT 1 FROM pg_locks WHERE virtualtransaction = ANY($1) LIMIT 1`, [vxids])
      if (open.rowCount === 0) return
      if (Date.now() >= deadline) {
        throw new TableBusyError(
          `Table ${name} was just added to the publication, and a long transaction that wrote to it before is still open: ` +
          `a shape's snapshot would miss its rows. Retry once it has ended.`)
      }
      await new Promise((r) => setTimeout(r, delay))
    }
  }
}

/** The partitions of a partitioned table and their storage as one string: it changes on ATTACH, DETACH, DROP, TRUNCATE. */
const signatureSql = (oid: string) =>
  `(SELECT string_agg(p.relid::oid::text || ':' || pc.relfilenode::text, ',' ORDER BY p.relid::oid)
      FROM pg_partition_tree(${oid}::regclass) p JOIN pg_class pc ON pc.oid = p.relid)`
