// Exactly once: a batch that carries an id is recorded in `trpc_sync_batches` in the transaction that
// applies it, by the same statement that reads the txid. A batch whose id is there already applies
// nothing and answers with the txid it committed under (a client retrying after a lost response), or
// CONFLICT when the id was used for a different batch (compared by a fingerprint of its operations).
// Concurrent duplicates serialize on the primary key: the second waits for the first to commit.
import { createHash } from 'node:crypto'
import { quoteIdent } from '../shape/sql.js'
import { WriterError } from './errors.js'
import type { OperationInput } from './operation.js'
import type { RawQueryClient } from './txid.js'

/** Where applied batch ids are recorded; `createWriterTablesSql` creates it. */
export const writerBatchesTable = 'trpc_sync_batches'

/** The SQL that creates the table for batch ids (idempotent): put it in a migration, or run `ensureWriterTables`. */
export function createWriterTablesSql(table = writerBatchesTable): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (
    "batch_id" TEXT NOT NULL PRIMARY KEY,
    "txid" BIGINT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "applied_at" TIMESTAMPTZ NOT NULL DEFAULT now()
)`
}

/** Creates the batch-id table if it does not exist (e.g. at startup, for apps without migrations). */
export async function ensureWriterTables(prisma: { $executeRawUnsafe(query: string): PromiseLike<unknown> }, table = writerBatchesTable): Promise<void> {
  await prisma.$executeRawUnsafe(createWriterTablesSql(table))
}

export interface RecordedBatch {
  txid: number
  /** True when the id was applied before: nothing was applied now, `txid` is the first commit's. */
  replayed: boolean
}

/** Records `id` with the current txid, or finds it already applied. Throws CONFLICT for a reused id. */
export async function recordBatch(tx: RawQueryClient, table: string, id: string, fingerprint: string): Promise<RecordedBatch> {
  const name = quoteTable(table)
  let inserted: { txid: string }[]
  try {
    inserted = await tx.$queryRawUnsafe<{ txid: string }[]>(
      `INSERT INTO ${name} ("batch_id", "txid", "fingerprint") VALUES ($1, pg_current_xact_id()::xid::text::bigint, $2)
       ON CONFLICT ("batch_id") DO NOTHING RETURNING "txid"::text AS txid`, id, fingerprint)
  } catch (error) {
    if (/does not exist/.test(String((error as Error).message))) {
      throw new Error(`the Writer records batch ids in table ${table}, which does not exist: create it with ensureWriterTables(prisma) or the SQL of createWriterTablesSql() in a migration (or pass exactlyOnce: false)`, { cause: error })
    }
    throw error
  }
  if (inserted.length > 0) return { txid: Number(inserted[0]!.txid), replayed: false }
  const [earlier] = await tx.$queryRawUnsafe<{ txid: string; fingerprint: string }[]>(
    `SELECT "txid"::text AS txid, "fingerprint" FROM ${name} WHERE "batch_id" = $1`, id)
  if (!earlier || earlier.fingerprint !== fingerprint) {
    throw new WriterError({ step: 'batch', kind: 'conflict', reason: `batch id ${JSON.stringify(id)} was already used for a different batch` })
  }
  return { txid: Number(earlier.txid), replayed: true }
}

/** Where and how to record a batch with an id; undefined when it has none or recording is off. */
export function batchRecord(id: string | undefined, operations: readonly OperationInput[], exactlyOnce: { table?: string } | false | undefined) {
  if (id === undefined || exactlyOnce === false) return undefined
  return { id, table: exactlyOnce?.table ?? writerBatchesTable, fingerprint: fingerprintOf(operations) }
}

/** A digest of what the operations write, the same for the same batch however its keys are ordered. */
export function fingerprintOf(operations: readonly OperationInput[]): string {
  const canonical = operations.map((op) => [op.type, op.table ?? null, op.data, op.type === 'update' ? op.changes ?? {} : null])
  return createHash('sha256').update(stableJson(canonical)).digest('base64url')
}

function stableJson(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'bigint') return `"${value}n"`
  if (typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (value instanceof Date) return JSON.stringify(Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString())
  if (value instanceof Uint8Array) return `"\\\\x${Buffer.from(value).toString('hex')}"`
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(value)
  const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`
}

function quoteTable(table: string): string {
  const dot = table.indexOf('.')
  return dot === -1 ? quoteIdent(table) : `${quoteIdent(table.slice(0, dot))}.${quoteIdent(table.slice(dot + 1))}`
}
