// Electric's shape log messages, as they travel in HTTP bodies (see the protocol reference).

export type Operation = 'insert' | 'update' | 'delete'

export type Value = Record<string, string | null>

export interface ChangeHeaders {
  operation: Operation
  relation: [string, string]
  txids?: number[]
  lsn?: string
  op_position?: number
  last?: boolean
  key_change_to?: string
  key_change_from?: string
  /** Rows of a subset snapshot: the `snapshot_mark` of its metadata. */
  snapshot_mark?: number
}

export interface ChangeMessage {
  key: string
  value: Value
  old_value?: Value
  headers: ChangeHeaders
}

export type ControlMessage =
  | { headers: { control: 'up-to-date'; global_last_seen_lsn?: string } }
  | { headers: { control: 'must-refetch' } }
  | { headers: { control: 'snapshot-end'; xmin: string; xmax: string; xip_list: string[] } }

export type Message = ChangeMessage | ControlMessage

export const isChangeMessage = (m: Message): m is ChangeMessage => 'key' in m

export const upToDate = (lsn?: bigint): ControlMessage => ({
  headers: lsn === undefined ? { control: 'up-to-date' } : { control: 'up-to-date', global_last_seen_lsn: lsn.toString() },
})

/** Snapshot bounds from `pg_current_snapshot()`: 64-bit xids as decimal strings. */
export interface SnapshotBounds {
  xmin: string
  xmax: string
  xip_list: string[]
}
