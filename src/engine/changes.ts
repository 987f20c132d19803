// How one replicated change reads in one shape's log: moves into and out of the where clause become
// inserts and deletes, a primary-key change becomes delete + insert, and `replica` decides how much
// of the row an update or delete carries (Electric's rules).
import type { ChangeMessage, Value } from '../source/messages.js'
import type { ShapeLog } from './shape-log.js'
import type { TextRow } from './transaction.js'

export interface ShapeChange {
  /** The whole row before the change (updates and deletes: the engine keeps replica identity FULL). */
  old?: TextRow
  /** Row after the change (inserts and updates). */
  record?: TextRow
  inOld: boolean
  inNew: boolean
}

export function shapeMessages(
  log: ShapeLog, change: ShapeChange, op: number, txids: number[], lsn: string,
): { op: number; message: ChangeMessage }[] {
  const { old, record, inOld, inNew } = change
  const full = log.definition.replica === 'full'
  const headers = (operation: 'insert' | 'update' | 'delete', position: number) =>
    ({ operation, relation: log.relation, txids, lsn, op_position: position })
  if (record && inNew && !inOld) {
    return [{ op, message: { key: log.keyOf(record), value: log.project(record), headers: headers('insert', op) } }]
  }
  if (inOld && !inNew) {
    return [{ op, message: { key: log.keyOf(old!), value: deletedValue(log, old!, full), headers: headers('delete', op) } }]
  }
  if (!record || !old || !inOld || !inNew) return []
  const oldKey = log.keyOf(old)
  const newKey = log.keyOf(record)
  if (oldKey !== newKey) {
    return [
      { op, message: { key: oldKey, value: deletedValue(log, old, full), headers: { ...headers('delete', op), key_change_to: newKey } } },
      { op: op + 1, message: { key: newKey, value: log.project(record), headers: { ...headers('insert', op + 1), key_change_from: oldKey } } },
    ]
  }
  const changed = log.columns.filter((c) => old[c] !== record[c])
  if (changed.length === 0) return []
  const message: ChangeMessage = { key: newKey, value: {}, headers: headers('update', op) }
  if (full) {
    message.value = log.project(record)
    message.old_value = pick(old, changed)
  } else {
    message.value = pick(record, [...new Set([...log.table.primaryKey.filter((c) => log.columns.includes(c)), ...changed])])
  }
  return [{ op, message }]
}

function deletedValue(log: ShapeLog, old: TextRow, full: boolean): Value {
  return full ? log.project(old) : pick(old, log.table.primaryKey.filter((c) => log.columns.includes(c)))
}

function pick(row: TextRow, columns: string[]): Value {
  const value: Value = {}
  for (const c of columns) value[c] = row[c] ?? null
  return value
}
