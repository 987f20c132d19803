// The events a shape subscription delivers: the one definition of `SyncEvent`, which the server
// (src/sync/events.ts) imports too. Rows hold the JS values findMany returns on the server
// (Date, bigint, Decimal, Uint8Array), carried by superjson.

// Over tRPC, the change that ends a batch and brings the shape up to date carries `upToDate: true` in
// place of a separate `up-to-date` event after it (one frame per change, not two); readers treat it as
// the change followed by an up-to-date. `sync.stream` and `sync.events` send the two separately.
export type SyncEvent<Row> =
  | { type: 'insert'; key: string; row: Row; txids: number[]; upToDate?: true }
  /** `changes`: the new values of the fields the update changed. */
  | { type: 'update'; key: string; row: Row; changes: Partial<Row>; txids: number[]; upToDate?: true }
  /** `row`: the row as it was before the delete. */
  | { type: 'delete'; key: string; row: Row; txids: number[]; upToDate?: true }
  | { type: 'up-to-date' }
  | { type: 'must-refetch' }
  /** End of the initial rows, with the snapshot's bounds (64-bit xids as decimal strings). */
  | { type: 'snapshot-end'; xmin: string; xmax: string; xip: string[] }

/** A tracked event: `id` is the position tRPC sends back as `lastEventId` when it resubscribes. */
export interface TrackedEvent<Row> {
  id: string
  data: SyncEvent<Row>
}

export type ChangeEvent<Row> = Extract<SyncEvent<Row>, { key: string }>
