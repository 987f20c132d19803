// The slot's confirmed position with coalesced status updates: it never passes a transaction that is not
// applied yet, it reaches every applied one (while streaming, and when the stream stops), and a burst of
// commits is confirmed with a handful of updates instead of one per commit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ReplicationStream } from '../../src/engine/replication.js'
import { StatusUpdates } from '../../src/engine/status-updates.js'
import { lsnToBigInt } from '../../src/engine/lsn.js'
import type { Transaction } from '../../src/engine/transaction.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { waitFor } from '../support/until.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql(`CREATE TABLE acked (id int PRIMARY KEY)`)
  await db.sql(`CREATE PUBLICATION acked_pub FOR TABLE acked`)
})
afterAll(async () => {
  await db?.drop()
})

async function confirmed(slot: string): Promise<bigint> {
  const [row] = await db.sql<{ lsn: string | null }>(`SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1`, [slot])
  return lsnToBigInt(row!.lsn!)
}

/** A stream whose `onTransaction` waits until the test releases it. */
async function gatedStream(slot: string) {
  await db.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot])
  const arrived: Transaction[] = []
  const gates: (() => void)[] = []
  const stream = new ReplicationStream({
    connectionString: db.url,
    slotName: slot,
    publicationName: 'acked_pub',
    onRelation: () => {},
    onTransaction: (tx) => new Promise<void>((release) => {
      arrived.push(tx)
      gates.push(release)
    }),
  })
  await stream.start()
  return { stream, arrived, gates }
}

describe('confirmed position', () => {
  it('never passes an unapplied transaction and reaches each applied one', async () => {
    const { stream, arrived, gates } = await gatedStream('acked_gated')
    try {
      const start = await confirmed('acked_gated')
      await db.sql(`INSERT INTO acked VALUES (1)`)
      await db.sql(`INSERT INTO acked VALUES (2)`)
      await waitFor(() => arrived.length === 1, 'the first transaction', 10_000)
      const first = lsnToBigInt(arrived[0]!.endLsn)
      // Held in onTransaction: several coalescing intervals later, nothing of it is confirmed.
      await new Promise((r) => setTimeout(r, 200))
      expect(await confirmed('acked_gated')).toBe(start)

      gates[0]!()
      await waitFor(() => arrived.length === 2, 'the second transaction', 10_000)
      const second = lsnToBigInt(arrived[1]!.endLsn)
      await waitFor(async () => (await confirmed('acked_gated')) === first, 'the first transaction confirmed', 10_000)
      await new Promise((r) => setTimeout(r, 200))
      expect(await confirmed('acked_gated')).toBe(first) // the second is still held

      gates[1]!()
      await waitFor(async () => (await confirmed('acked_gated')) === second, 'the second transaction confirmed', 10_000)
    } finally {
      for (const release of gates) release()
      await stream.stop()
    }
  })

  it('confirms everything applied when the stream stops, within a coalescing interval', async () => {
    await db.sql(`SELECT pg_create_logical_replication_slot('acked_burst', 'pgoutput')`)
    const applied: Transaction[] = []
    const stream = new ReplicationStream({
      connectionString: db.url, slotName: 'acked_burst', publicationName: 'acked_pub', onRelation: () => {},
      onTransaction: (tx) => { applied.push(tx) },
    })
    await stream.start()
    await db.sql(`INSERT INTO acked SELECT g FROM generate_series(100, 100) g`)
    await waitFor(() => applied.length === 1, 'the first transaction', 10_000)
    // 200 commits at once from 8 connections; then the stream stops before a coalescing interval ends.
    await Promise.all(Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; i < 25; i++) await db.pool.query(`INSERT INTO acked VALUES ($1)`, [1000 + c * 100 + i])
    }))
    // Polled every millisecond, so the stream stops while the last update is still being coalesced.
    await waitFor(() => applied.length === 201, 'every transaction', 10_000, 1)
    await stream.stop()
    const last = applied.map((tx) => lsnToBigInt(tx.endLsn)).reduce((a, b) => (a > b ? a : b))
    expect(await confirmed('acked_burst')).toBe(last)
  })
})

describe('StatusUpdates', () => {
  it('sends the first position at once, coalesces the rest into the latest, and never goes back', async () => {
    const sent: string[] = []
    const updates = new StatusUpdates((lsn) => sent.push(lsn), 50)
    for (let i = 1; i <= 1000; i++) updates.applied(`0/${(i * 16).toString(16).toUpperCase()}`)
    expect(sent).toEqual(['0/10'])
    await waitFor(() => sent.length === 2, 'the coalesced update', 5000)
    expect(sent[1]).toBe(`0/${(1000 * 16).toString(16).toUpperCase()}`)
    updates.reply('0/20') // a keepalive answered with an older position gets the latest sent
    expect(sent[2]).toBe(sent[1])
    updates.applied('0/FFFF0')
    updates.reply('0/FFFF0')
    updates.flush()
    expect(sent.slice(3)).toEqual(['0/FFFF0'])
    updates.stop()
  })
})
