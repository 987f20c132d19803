// The fast lane: a small transaction that commits while a large one is still being routed (a 5,000-row
// batch meeting 10,000 shapes takes tens of milliseconds) is appended at once to the logs it touches when
// every earlier transaction not yet applied provably touches none of them, instead of waiting its turn.
// Invariant: each log gets transactions in commit order, each once. How: a log qualifies only when it is
// ready, and every change of the earlier unapplied transactions that is not routed yet (all of a queued
// one, the rest of the one being routed) is evaluated against its where clause and found not to match,
// and the transaction being routed has nothing waiting to be appended to it. Anything unusual (a truncate,
// a schema or identity change, an enum label the table does not know, a where clause that raises, more
// evaluations than the budget) sends the transaction down the normal path, in commit order. Applied
// transactions are remembered by LSN, so the normal path (and a replay after a reconnect) skips them.
import type { CompiledWhere } from '../where/index.js'
import { shapeMessages } from './changes.js'
import type { ShapeLog } from './shape-log.js'
import type { Change, RelationInfo, TextRow, Transaction } from './transaction.js'

/** What the lane needs of a routed table (the engine's route). */
export interface LaneRoute {
  table: { oid: number }
  index: { match(row: TextRow, onError?: (log: ShapeLog, error: Error) => void): Set<ShapeLog> }
  unknownLabel: ((row: TextRow | undefined) => boolean) | undefined
}

export interface FastLaneOptions {
  routeOf(relation: RelationInfo): LaneRoute | undefined
  whereOf(log: ShapeLog): CompiledWhere | undefined
  /** A log over its retention after an append: the engine drops it. */
  onOverRetention(log: ShapeLog): void
}

/** Changes of a transaction the lane routes itself (larger ones take the normal path). */
const MAX_CHANGES = 64
/** Where clause evaluations one transaction may spend proving the earlier ones do not touch its logs. */
const MAX_EVALUATIONS = 20_000

/** The old and new rows of a change the lane can route, or undefined when it needs the normal path. */
export function plainRows(route: LaneRoute, change: Exclude<Change, { kind: 'truncate' }>): { old?: TextRow; record?: TextRow } | undefined {
  if (change.relation.oid !== route.table.oid) return undefined
  if (change.kind !== 'insert' && change.old === null) return undefined
  const old = change.kind === 'insert' ? undefined : change.old ?? undefined
  const record = change.kind === 'delete' ? undefined : change.record
  if (route.unknownLabel && (route.unknownLabel(record) || route.unknownLabel(old))) return undefined
  return { old, record }
}

export class FastLane {
  /** Transactions received and not yet applied, by commit LSN, in commit order. */
  private readonly unapplied = new Map<bigint, Transaction>()
  /** LSNs of transactions the lane applied; the normal path skips them. */
  private readonly applied = new Set<bigint>()
  /** The transaction being routed on the normal path and the index of its first change not routed yet. */
  private routing: { tx: Transaction; next: number } | undefined
  /** Transactions applied by the lane since the engine started. */
  count = 0

  constructor(private readonly options: FastLaneOptions) {}

  /** A committed transaction arrived; `behind` when earlier ones are still being applied. */
  arrived(tx: Transaction, behind: boolean): void {
    if (this.applied.has(tx.lsn)) return // a replay after a reconnect
    this.unapplied.set(tx.lsn, tx)
    if (behind) this.tryApply(tx)
  }

  /** The normal path starts routing `tx`: false when the lane already applied it. */
  begin(tx: Transaction): boolean {
    if (this.applied.delete(tx.lsn)) {
      this.unapplied.delete(tx.lsn)
      return false
    }
    this.routing = { tx, next: 0 }
    return true
  }

  /** The normal path routed the changes before `next`. */
  progress(next: number): void {
    this.routing!.next = next
  }

  /** The normal path is done with `tx` (applied or failed: a failed one arrives again). */
  end(tx: Transaction): void {
    this.routing = undefined
    for (const lsn of this.unapplied.keys()) if (lsn <= tx.lsn) this.unapplied.delete(lsn)
    for (const lsn of this.applied) if (lsn <= tx.lsn) this.applied.delete(lsn)
  }

  /** The slot was replaced: nothing received before counts. */
  reset(): void {
    this.unapplied.clear()
    this.applied.clear()
    this.routing = undefined
  }

  private tryApply(tx: Transaction): void {
    if (tx.changes.length > MAX_CHANGES) return
    const byLog = new Map<ShapeLog, ReturnType<typeof shapeMessages>>()
    let raised = false
    const onError = () => { raised = true }
    const txids = [tx.xid]
    const lsn = tx.lsn.toString()
    for (let i = 0; i < tx.changes.length; i++) {
      const change = tx.changes[i]!
      if (change.kind === 'truncate') return
      const route = this.options.routeOf(change.relation)
      if (!route) continue
      const rows = plainRows(route, change)
      if (!rows) return
      const inOld = rows.old ? route.index.match(rows.old, onError) : undefined
      const inNew = rows.record ? route.index.match(rows.record, onError) : undefined
      if (raised) return
      for (const log of new Set([...(inOld ?? []), ...(inNew ?? [])])) {
        const messages = shapeMessages(log, { ...rows, inOld: inOld?.has(log) ?? false, inNew: inNew?.has(log) ?? false }, i * 2, txids, lsn)
        if (messages.length === 0) continue
        const list = byLog.get(log)
        if (list) list.push(...messages)
        else byLog.set(log, messages)
      }
    }
    if (byLog.size === 0) return // nothing to hurry: the normal path skips it quickly
    for (const log of byLog.keys()) if (!log.ready || log.rotated) return
    if (!this.earlierTouchNone(tx, [...byLog.keys()])) return
    this.applied.add(tx.lsn)
    this.count++
    for (const [log, messages] of byLog) {
      if (log.seenBySnapshot(tx.xid)) continue
      log.append(messages, tx.lsn)
      if (log.overRetention) this.options.onOverRetention(log)
    }
  }

  /** Whether no earlier unapplied transaction has a change for any of `logs` (within the budget). */
  private earlierTouchNone(tx: Transaction, logs: ShapeLog[]): boolean {
    let evaluations = 0
    for (const [lsn, earlier] of this.unapplied) {
      if (lsn >= tx.lsn) break
      if (this.applied.has(lsn)) continue
      const routing = this.routing?.tx === earlier ? this.routing : undefined
      if (routing && logs.some((log) => log.txMessages.length > 0)) return false
      const changes = earlier.changes
      for (let i = routing?.next ?? 0; i < changes.length; i++) {
        const change = changes[i]!
        if (change.kind === 'truncate') return false
        const route = this.options.routeOf(change.relation)
        if (!route) continue
        const rows = plainRows(route, change)
        if (!rows) return false
        for (const log of logs) {
          if (log.relation[0] !== change.relation.namespace || log.relation[1] !== change.relation.table) continue
          const where = this.options.whereOf(log)
          if (!where) return false
          evaluations += 2
          if (evaluations > MAX_EVALUATIONS) return false
          for (const row of [rows.old, rows.record]) {
            if (row && where.evaluateOrError(row) !== false) return false // a match, or an error to rotate on
          }
        }
      }
    }
    return true
  }
}
