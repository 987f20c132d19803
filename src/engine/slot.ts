// The replication slot: created at start, and recognized as lost under a running engine — dropped by
// an operator, invalidated (max_slot_wal_keep_size, idle_replication_slot_timeout, a recovery conflict)
// or missing after a failover to a standby that did not have it. Changes committed while it was gone are
// never decoded, so no shape log can be proved equal to its query any more: the engine recreates the slot
// and rotates every shape. Loss is decided from pg_replication_slots after a walsender error, not from the
// error's wording, which differs between majors (42704 `replication slot "s" does not exist`; 55000
// `cannot read from logical replication slot` on 15/16, `can no longer access replication slot` on 17+).
import type pg from 'pg'

export type SlotLoss = 'dropped' | 'invalidated'

/**
 * Whether the slot is gone or unusable; undefined when it is usable. Throws when the database cannot be
 * asked (a restart): the caller then treats the error as transient and retries.
 */
export async function slotLoss(pool: pg.Pool, slot: string): Promise<SlotLoss | undefined> {
  // to_jsonb: the columns that say "invalidated" differ by major (wal_status 13+, conflicting 16+,
  // invalidation_reason 17+).
  const { rows } = await pool.query<{ slot: Record<string, unknown> }>(
    `SELECT to_jsonb(s) AS slot FROM pg_replication_slots s WHERE slot_name = $1`, [slot],
  )
  const state = rows[0]?.slot
  if (!state) return 'dropped'
  if (state.wal_status === 'lost' || state.conflicting === true || (state.invalidation_reason ?? null) !== null) return 'invalidated'
  return undefined
}

/** Creates the logical slot; returns its consistent point (decoding starts there). */
export async function createSlot(pool: pg.Pool, slot: string): Promise<string> {
  const { rows } = await pool.query<{ lsn: string }>(
    `SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')`, [slot],
  )
  return rows[0]!.lsn
}

/** Drops the slot if it exists, terminating a walsender that still holds it. */
export async function dropSlot(pool: pg.Pool, slot: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await pool.query(
        `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, [slot],
      )
      await pool.query(`SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1`, [slot])
      return
    } catch (error) {
      // The (stopped or terminated) walsender may still hold the slot for a moment: 55006, object in use.
      if (attempt > 40 || (error as { code?: string }).code !== '55006') throw error
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

/**
 * Watches over the slot for a running engine. After a replication error it asks whether the slot is
 * lost; if so it rotates every shape, recreates the slot and rotates again (a snapshot that started
 * before the new slot existed may miss changes), and holds new snapshots back until the slot is there.
 */
export class SlotGuard {
  private recovery: { done: Promise<void>; resolve(): void } | undefined
  /** Why the lost slot could not be created again (yet); cleared once it is. */
  failure: Error | undefined

  constructor(
    private readonly pool: pg.Pool,
    private readonly slot: string,
    private readonly rotateAll: () => void,
    private readonly log: (message: string) => void,
    /** Told when the slot's state changes (lost and not recreated, or recreated). */
    private readonly changed: () => void,
  ) {}

  /** Resolves once the slot is usable (at once, unless it is being recreated). */
  ready(): Promise<void> | undefined {
    return this.recovery?.done
  }

  /** For the replication stream's `onFailure`: the new slot's start LSN if it was lost and recreated. */
  async check(error: Error): Promise<string | undefined> {
    let loss: SlotLoss | undefined
    try {
      loss = await slotLoss(this.pool, this.slot)
    } catch (failure) {
      if (!this.recovery) return undefined // the database is unreachable: a transient error
      throw failure
    }
    if (!loss && !this.recovery) return undefined
    // An earlier attempt may have created the slot and failed after: start over from a fresh one.
    loss ??= 'invalidated'
    if (!this.recovery) {
      this.log(`replication slot "${this.slot}" was ${loss} (${error.message}): changes since are lost, so every ` +
        'shape is rotated (its readers refetch) and the slot is created again')
      let resolve!: () => void
      this.recovery = { done: new Promise((r) => (resolve = r)), resolve }
    }
    this.rotateAll()
    let lsn: string
    try {
      if (loss === 'invalidated') await dropSlot(this.pool, this.slot)
      lsn = await createSlot(this.pool, this.slot)
    } catch (failure) {
      // The stream asks again on its next failure. One that no retry cures soon (max_replication_slots
      // reached, a missing privilege) is reported to flush(); a connection lost meanwhile is not.
      const code = (failure as { code?: unknown }).code
      if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57|55006|53300)/.test(code)) {
        this.failure = failure as Error
        this.changed()
      }
      throw failure
    }
    this.rotateAll()
    this.log(`replication slot "${this.slot}" recreated at ${lsn}`)
    this.failure = undefined
    this.recovery.resolve()
    this.recovery = undefined
    this.changed()
    return lsn
  }
}
