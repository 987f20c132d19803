// Checks and setup before replication starts, each failing with the cause and the fix:
// wal_level, the REPLICATION attribute, one engine per slot (advisory lock), publication and slot.
import pg from 'pg'
import { EngineError } from './errors.js'
import { preparePublication } from './publication.js'
import { createSlot, dropSlot } from './slot.js'

/**
 * Returns the connection that holds the slot's advisory lock for the engine's lifetime, and the tables
 * the publication had before the slot was created.
 */
export async function preflight(
  pool: pg.Pool, databaseUrl: string, slot: string, publication: string, lockWaitMs: number,
): Promise<{ lock: pg.Client; published: Set<number> }> {
  let settings
  try {
    settings = (await pool.query<{ wal_level: string; can_replicate: boolean; role: string }>(
      `SELECT current_setting('wal_level') AS wal_level, quote_ident(current_user) AS role,
              (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS can_replicate`,
    )).rows[0]!
  } catch (error) {
    throw new EngineError('database', `cannot connect to Postgres: ${(error as Error).message}`)
  }
  if (settings.wal_level !== 'logical') {
    throw new EngineError('database',
      `Postgres has wal_level=${settings.wal_level}; the embedded sync engine needs wal_level=logical. ` +
      'Run `ALTER SYSTEM SET wal_level = logical;` and restart Postgres.')
  }
  if (!settings.can_replicate) {
    throw new EngineError('database',
      'the database role lacks the REPLICATION attribute needed for logical replication. ' +
      `Run \`ALTER ROLE ${settings.role} WITH REPLICATION;\` as a superuser, or connect as a role that has it.`)
  }

  const lock = new pg.Client({ connectionString: databaseUrl })
  await lock.connect()
  const deadline = Date.now() + lockWaitMs
  for (;;) {
    const { rows } = await lock.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [slot])
    if (rows[0]!.locked) break
    if (Date.now() > deadline) {
      await lock.end()
      throw new EngineError('database',
        `another trpc-sync engine holds replication slot "${slot}"; give each app instance its own slotName, ` +
        'or use http mode with one Electric service for many instances.')
    }
    await new Promise((r) => setTimeout(r, 250))
  }

  let published: Set<number>
  try {
    published = await preparePublication(pool, publication)
    // Shape logs live in memory, so a slot left by an earlier run holds nothing we can resume:
    // start from now. Readers of the earlier run get must-refetch (their handles are unknown).
    const existing = await pool.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [slot])
    if (existing.rows.length) await dropSlot(pool, slot)
    await createSlot(pool, slot)
  } catch (error) {
    await lock.end()
    if (error instanceof EngineError) throw error
    throw new EngineError('database', `cannot set up replication (publication "${publication}", slot "${slot}"): ${(error as Error).message}`)
  }
  return { lock, published }
}
