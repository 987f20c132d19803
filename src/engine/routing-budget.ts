// Routing a transaction in slices, so that no transaction, however many rows and shapes it meets, holds
// the event loop for more than about one slice: the engine asks `spent()` between changes, between the
// shapes a change reaches and between the where clauses it evaluates one by one; once a slice has run
// `sliceMs`, it awaits `next()` (setImmediate: timers, sockets and other clients' requests run first).
// Each log it touches then gets the transaction's messages in one synchronous append (a reader never sees
// part of a transaction; slices may fall between two logs), and the next transaction is not routed before
// this one finished (the replication stream awaits each), keeping commit order.
import type { FilterIndex, MatchBudget } from '../where/index.js'
import { qualified, type TableInfo } from './catalog.js'
import { shapeMessages, type ShapeChange } from './changes.js'
import type { FastLane } from './fast-lane.js'
import type { RotationReason, ShapeLog } from './shape-log.js'
import type { RelationInfo, TextRow, Transaction } from './transaction.js'

/** Calls of `spent()` between two clock reads: a where clause evaluates in well under a microsecond. */
const CHECK_EVERY = 8

export class SliceBudget implements MatchBudget {
  private deadline: number
  private calls = 0
  /** Slices this transaction was routed in, minus one: how often it let others run. */
  pauses = 0

  constructor(private readonly sliceMs: number) {
    this.deadline = performance.now() + sliceMs
  }

  spent(): boolean {
    if (++this.calls % CHECK_EVERY !== 0) return false
    return performance.now() >= this.deadline
  }

  async next(): Promise<void> {
    this.pauses++
    await new Promise<void>((resolve) => setImmediate(resolve))
    this.deadline = performance.now() + this.sliceMs
  }
}

/** A table's shapes: their index and the table they were built on. */
export interface TableRoute {
  table: TableInfo
  index: FilterIndex<ShapeLog>
  logs: Set<ShapeLog>
  /** Tables with enum columns: whether a row carries a label `table` does not know. */
  unknownLabel: ((row: TextRow | undefined) => boolean) | undefined
}

/** What routing needs of the engine. */
export interface RoutingContext {
  routeOf(relation: RelationInfo): TableRoute | undefined
  /** Logs created during this transaction's pauses: their snapshot has it (see the engine). */
  joined: Set<ShapeLog>
  lane: FastLane
  /** OIDs of tables dropped or replaced under their name. */
  retired: ReadonlySet<number>
  rotate(table: { namespace: string; table: string }, reason: RotationReason): void
  tableChanged(table: TableInfo): void
  drop(log: ShapeLog, reason: RotationReason): void
  log(message: string): void
}

/** Routes one committed transaction into the logs of the shapes it touches, in slices. */
export async function routeTransaction(tx: Transaction, budget: SliceBudget, ctx: RoutingContext): Promise<void> {
  const joined = ctx.joined
  const touched: ShapeLog[] = []
  // Shapes whose where clause raised for a row: Postgres's query fails while it exists, so they rotate.
  const raised = new Map<ShapeLog, Error>()
  const onError = (log: ShapeLog, error: Error) => { if (!raised.has(log)) raised.set(log, error) }
  const lsn = tx.lsn.toString()
  const txids = [tx.xid]
  const changes = tx.changes
  for (let i = 0; i < changes.length; i++) {
    if (budget.spent()) await budget.next()
    ctx.lane.progress(i)
    const change = changes[i]!
    if (change.kind === 'truncate') {
      for (const relation of change.relations) ctx.rotate({ namespace: relation.namespace, table: relation.table }, 'truncate')
      continue
    }
    const route = ctx.routeOf(change.relation)
    if (!route) continue
    if (change.relation.oid !== route.table.oid) {
      if (!ctx.retired.has(change.relation.oid)) ctx.tableChanged(route.table) // another table under the name
      continue
    }
    if (change.kind !== 'insert' && change.old === null) {
      // Replica identity is not FULL any more (ALTER TABLE, a partition attached later): without the old
      // row no shape can tell whether it held the row. The shape that replaces them sets FULL again.
      ctx.log(`rotating the shapes of ${qualified(route.table.namespace, route.table.table)}: ` +
        `an update or delete arrived without the old row (replica identity is not FULL)`)
      ctx.rotate({ namespace: route.table.namespace, table: route.table.table }, 'replica-identity')
      continue
    }
    const old = change.kind === 'insert' ? undefined : change.old ?? undefined
    const record = change.kind === 'delete' ? undefined : change.record
    if (route.unknownLabel && (route.unknownLabel(record) || route.unknownLabel(old))) {
      ctx.tableChanged(route.table) // an enum label added since the catalog read
      continue
    }
    let inOld = old ? route.index.match(old, onError, budget) : undefined
    if (inOld instanceof Promise) inOld = await inOld
    let inNew = record ? route.index.match(record, onError, budget) : undefined
    if (inNew instanceof Promise) inNew = await inNew
    for (const log of union(inOld, inNew)) {
      if (budget.spent()) await budget.next()
      if (joined.size && joined.has(log)) continue
      const shapeChange: ShapeChange = { old, record, inOld: inOld?.has(log) ?? false, inNew: inNew?.has(log) ?? false }
      const messages = shapeMessages(log, shapeChange, i * 2, txids, lsn)
      if (messages.length === 0) continue
      if (log.txMessages.length === 0) touched.push(log)
      log.txMessages.push(...messages)
    }
  }
  ctx.lane.progress(changes.length)
  for (const [log, error] of raised) {
    if (joined.has(log)) continue // evaluated for a row of a transaction its snapshot has
    ctx.log(`shape ${log.handle}: its where clause raised "${error.message}" for a row of transaction ${tx.xid}; rotating it (readers refetch)`)
    ctx.drop(log, 'error')
  }
  for (const log of touched) {
    // Each log gets the whole transaction at once; between logs, others may run (readers of one shape
    // never see part of a transaction; the next transaction waits for this one).
    if (budget.spent()) await budget.next()
    const messages = log.txMessages
    log.txMessages = []
    if (log.rotated) continue
    if (log.pending) log.pending.push({ xid: tx.xid, apply: () => log.append(messages, tx.lsn) })
    else if (!log.seenBySnapshot(tx.xid)) log.append(messages, tx.lsn)
    if (log.overRetention) ctx.drop(log, 'retention')
  }
}

function union<T>(a: Set<T> | undefined, b: Set<T> | undefined): Iterable<T> {
  if (!a || a.size === 0) return b ?? []
  if (!b || b.size === 0) return a
  return new Set([...a, ...b])
}
