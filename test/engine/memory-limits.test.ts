// Memory by bytes and the engine's limits (issue 13, case 3): a shape's snapshot is kept compact (its
// heap is a small multiple of the table's JSON, counted in the byte budget); over the budget the
// coldest idle shapes are evicted and their readers refetch and converge; at the limit of shapes a new
// one takes an idle one's place or is refused with 429; snapshots run at most concurrentSnapshots at
// once, the rest queue (past queuedSnapshots: 429), and the engine's own queries never wait behind them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import v8 from 'node:v8'
import vm from 'node:vm'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { LiveReader, shapeOf, startEngine } from '../support/engine.js'
import { waitFor } from '../support/until.js'
import type { EmbeddedEngine } from '../../src/engine/index.js'
import { LimitError } from '../../src/limits/index.js'
import type { Value } from '../../src/source/messages.js'
import type { StreamItem } from '../../src/source/stream.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

let db: TestDatabase
const engines: EmbeddedEngine[] = []
const start = async (...args: Parameters<typeof startEngine>) => {
  const engine = await startEngine(...args)
  engines.push(engine)
  return engine
}
beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql(`CREATE TABLE big (id int PRIMARY KEY, title text NOT NULL, payload text NOT NULL)`)
  await db.sql(`INSERT INTO big SELECT g, 'title ' || g, repeat('p', 100) || g FROM generate_series(1, 50000) g`)
  await db.sql(`CREATE TABLE med (id int PRIMARY KEY, grp int NOT NULL, payload text NOT NULL)`)
  await db.sql(`INSERT INTO med SELECT g, g % 10, repeat('m', 200) FROM generate_series(1, 5000) g`)
})
afterAll(async () => {
  for (const engine of engines) await engine.close().catch(() => {})
  await db?.drop()
})

/** Resolves once `reader` has seen an up-to-date at or past `lsn` (already, or later). */
async function reached(reader: LiveReader, lsn: bigint): Promise<void> {
  const seen = () => reader.items.some((item) => {
    const h = item.message.headers as { control?: string; global_last_seen_lsn?: string }
    return h.control === 'up-to-date' && h.global_last_seen_lsn !== undefined && BigInt(h.global_last_seen_lsn) >= lsn
  })
  await waitFor(seen, `a reader up to date at ${lsn}`, 20_000)
}

const isMustRefetch = (item: StreamItem) => (item.message.headers as { control?: string }).control === 'must-refetch'

/** The rows a where selects, as a shape's reader holds them (Electric keys, text values). */
async function rowsOf(table: string, where: string): Promise<Map<string, Value>> {
  const rows = await db.sql(`SELECT id::text, grp::text, payload FROM ${table} WHERE ${where}`)
  return new Map(rows.map((r) => [`"public"."${table}"/"${r.id}"`, r]))
}

describe('memory by bytes', () => {
  it('keeps 8 distinct snapshots of a 50k-row table in a small multiple of its JSON size', { timeout: 120_000 }, async () => {
    const engine = await start(db.url)
    const [{ bytes }] = await db.sql(`SELECT sum(octet_length(row_to_json(b)::text))::float8 AS bytes FROM big b`)
    gc()
    const before = process.memoryUsage().heapUsed
    // Eight distinct wheres, each selecting (nearly) the whole table, as one frame of an attacker could.
    const shapes = Array.from({ length: 8 }, (_, i) => shapeOf('big', { where: `id > ${i}` }))
    for (const shape of shapes) expect((await engine.fetch(shape, { offset: '-1' })).status).toBe('ok')
    gc()
    const perShape = (process.memoryUsage().heapUsed - before) / shapes.length
    const accounted = engine.stats().logBytes / shapes.length
    console.log(`[memory] 50,000 rows, ${(bytes / 50000).toFixed(0)} JSON bytes a row: heap ${(perShape / 50000).toFixed(0)} bytes a row ` +
      `a shape (${(perShape / 1048576).toFixed(1)} MiB), accounted ${(accounted / 50000).toFixed(0)} bytes a row`)
    // Kept as message objects, a row costs ~8x its JSON (about 1 KB a row here); compact, under 2x
    // (Electric's envelope: key and headers, once as text).
    expect(perShape).toBeLessThan(2 * bytes)
    // The budget counts what the logs hold, not a guess far off it.
    expect(accounted).toBeGreaterThan(0.8 * perShape)
    expect(accounted).toBeLessThan(1.5 * perShape)
    // Readers still get every row, once, as objects and as the JSON HTTP sends.
    let rows = 0
    let offset = '-1'
    let handle: string | undefined
    for (;;) {
      const result = await engine.fetch(shapes[7]!, { offset, handle })
      if (result.status !== 'ok') throw new Error('unexpected must-refetch')
      const changes = result.messages.filter((m) => 'key' in m)
      rows += changes.length
      expect(result.encoded.map((e) => JSON.parse(e))).toEqual(result.messages)
      if (result.upToDate) break
      offset = result.offset
      handle = result.handle
    }
    expect(rows).toBe(50000 - 7)
  })

  it('evicts the coldest idle shapes over the byte budget; their readers refetch and converge', { timeout: 60_000 }, async () => {
    // One shape's size, from an engine without a budget.
    const probe = await start(db.url)
    await probe.fetch(shapeOf('med', { where: 'grp = 0' }), { offset: '-1' })
    const oneShape = probe.stats().logBytes
    expect(oneShape).toBeGreaterThan(0)
    const engine = await start(db.url, { limits: { logBytes: Math.round(3.5 * oneShape) }, liveTimeoutMs: 500 })
    const shape = (grp: number) => shapeOf('med', { where: `grp = ${grp}` })

    const active = new LiveReader(engine, shape(0)) // a reader that stays (held in live requests)
    await reached(active, await engine.flush())
    const idle: { handle: string; offset: string }[] = []
    for (const grp of [1, 2]) {
      const reader = new LiveReader(engine, shape(grp))
      await reached(reader, await engine.flush())
      await reader.stop()
      const last = reader.items.at(-1)!
      idle.push({ handle: last.handle, offset: last.offset })
      await new Promise((r) => setTimeout(r, 5)) // distinct last uses
    }
    expect(engine.stats().shapes).toBe(3)
    const activeHandle = active.items.at(-1)!.handle

    // A fourth shape passes the budget: the coldest idle one (grp 1) goes, not the one being read.
    await engine.fetch(shape(3), { offset: '-1' })
    expect(engine.stats().logBytes).toBeLessThanOrEqual(3.5 * oneShape)
    expect(await engine.existingHandle(shape(1))).toBeUndefined()
    expect(await engine.existingHandle(shape(2))).toBe(idle[1]!.handle)
    expect(await engine.existingHandle(shape(0))).toBe(activeHandle)

    // A fifth: the idle ones go (grp 2, then the fourth once it is the coldest idle), the read one stays.
    await engine.fetch(shape(4), { offset: '-1' })
    await engine.fetch(shape(5), { offset: '-1' })
    expect(await engine.existingHandle(shape(0))).toBe(activeHandle)
    expect(await engine.existingHandle(shape(2))).toBeUndefined()

    // The evicted shapes' readers come back where they were, get must-refetch, and converge.
    await db.sql(`UPDATE med SET payload = 'changed' WHERE id % 7 = 0`)
    await db.sql(`INSERT INTO med SELECT g, g % 10, 'new' FROM generate_series(5001, 5100) g`)
    const back = [1, 2].map((grp, i) => new LiveReader(engine, shape(grp), idle[i]))
    const lsn = await engine.flush()
    for (const [i, reader] of back.entries()) {
      await reached(reader, lsn)
      expect(reader.items.some(isMustRefetch)).toBe(true)
      expect(reader.state.rows).toEqual(await rowsOf('med', `grp = ${i + 1}`))
      await reader.stop()
    }
    await reached(active, lsn)
    expect(active.items.some(isMustRefetch)).toBe(false)
    expect(active.state.rows).toEqual(await rowsOf('med', 'grp = 0'))
    await active.stop()
  })
})

describe('limits of the engine', () => {
  it('at the limit of shapes, evicts an idle shape for a new one, else refuses it with 429', { timeout: 60_000 }, async () => {
    const engine = await start(db.url, { limits: { shapes: 3 }, liveTimeoutMs: 60_000 })
    const shape = (grp: number) => shapeOf('med', { where: `grp = ${grp}` })
    const readers = [0, 1, 2].map((grp) => new LiveReader(engine, shape(grp)))
    const lsn = await engine.flush()
    for (const reader of readers) await reached(reader, lsn)
    // Every shape is being read: the fourth is refused, naming the limit, as a limit of the server.
    const refused = await engine.fetch(shape(3), { offset: '-1' }).then(() => undefined, (error: unknown) => error)
    expect(refused).toBeInstanceOf(LimitError)
    expect((refused as LimitError).field).toBe('shapes')
    expect((refused as LimitError).status).toBe(429)
    expect(engine.stats().shapes).toBe(3)
    // Once one has no reader, the new shape takes its place.
    await readers[1]!.stop()
    expect((await engine.fetch(shape(3), { offset: '-1' })).status).toBe('ok')
    expect(await engine.existingHandle(shape(1))).toBeUndefined()
    expect(engine.stats().shapes).toBe(3)
    for (const reader of readers) await reader.stop()
  })

  it('runs at most concurrentSnapshots snapshots at once, queues the rest, and never starves its own queries', { timeout: 120_000 }, async () => {
    // The engine's pool has 4 connections; 2 snapshots at a time, 10 in line.
    const engine = await start(db.url, { limits: { concurrentSnapshots: 2, queuedSnapshots: 10 } })
    let peak = 0
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const [{ n }] = await db.sql(`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND state <> 'idle' AND query LIKE '%trpc_sync_snapshot%' AND pid <> pg_backend_pid()`)
        peak = Math.max(peak, n)
      }
    })()
    const requests = Array.from({ length: 20 }, (_, i) =>
      engine.fetch(shapeOf('big', { where: `id % 20 <> ${i}` }), { offset: '-1' }).then((r) => r.status, (e: unknown) => e))
    await waitFor(() => engine.stats().queuedSnapshots === 10, 'ten snapshots queued', 20_000)
    // The engine's own queries (here flush(), on its pool) still answer while snapshots wait.
    await engine.flush()
    const results = await Promise.all(requests)
    sampling = false
    await sampler
    const refused = results.filter((r): r is LimitError => r instanceof LimitError)
    // 2 running + 10 queued; the rest answered at once (one more may fit if a snapshot ended meanwhile).
    expect(refused.length).toBeGreaterThan(0)
    for (const error of refused) {
      expect(error.field).toBe('queuedSnapshots')
      expect(error.status).toBe(429)
    }
    expect(results.filter((r) => r === 'ok').length).toBe(20 - refused.length)
    expect(refused.length).toBeLessThanOrEqual(8)
    expect(peak).toBeGreaterThan(0)
    expect(peak).toBeLessThanOrEqual(2)
  })
})
