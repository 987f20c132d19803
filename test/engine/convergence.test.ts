// Convergence: after a seeded concurrent workload, every reader's materialized rows equal the shape's SQL
// query, compared as Postgres text. Each run starts a fresh engine (its own slot, no logs from earlier
// runs) on a freshly populated table whose replica identity (FULL or DEFAULT) and publication membership
// the seed decides, then interleaves 3–4 writer connections statement by statement (multi-statement
// transactions, some rolled back, some held open across the run, savepoints undone, key changes, moves
// in and out of where clauses, TOAST-sized values and updates that leave them unchanged) with steps that
// start fresh shapes (snapshots under load, in several chunks), resume new readers at offsets earlier
// readers were handed (mid-snapshot, at snapshot-end, after a change) and rotate shapes (must-refetch).
// FC_NUM_RUNS sets the number of runs (default 50; the long mode is 1,000), FC_SEED (default 42) and
// FC_PATH replay a failure that fast-check reported. To tell failures apart, CONV_IDENTITY=full|default
// and CONV_PUBLISHED=1|0 pin the replica identity and the publication membership of every run.
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { LiveReader, shapeOf, startEngine } from '../support/engine.js'
import {
  createTable, docText, initialRows, runSpec, table, Writer, type RunSpec, type Step, type WorkloadCounters,
} from '../support/convergence-workload.js'
import type { EmbeddedEngine } from '../../src/engine/index.js'
import type { ShapeDefinition } from '../../src/shape/definition.js'
import { isChangeMessage, type Message, type Value } from '../../src/source/messages.js'
import type { StreamItem } from '../../src/source/stream.js'

const runs = Number(process.env.FC_NUM_RUNS ?? 50)
const seed = Number(process.env.FC_SEED ?? 42)
const path = process.env.FC_PATH
const pinned = {
  identity: process.env.CONV_IDENTITY as RunSpec['identity'] | undefined,
  published: process.env.CONV_PUBLISHED === undefined ? undefined : process.env.CONV_PUBLISHED === '1',
}
const runs$ = runSpec.map((spec) => ({
  ...spec,
  identity: pinned.identity ?? spec.identity,
  published: pinned.published ?? spec.published,
}))
const publicationName = 'conv_publication'
const columns = ['id', 'grp', 'val', 'flag', 'doc']
/** Bound on waiting for a reader, so a stuck reader fails the run instead of hanging it. */
const readerWaitMs = 30_000

let db: TestDatabase
const clients: pg.Client[] = []
beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql(createTable)
  await db.sql(`CREATE PUBLICATION ${publicationName}`)
  for (let i = 0; i < 4; i++) {
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    clients.push(client)
  }
  // The TOAST-sized values really are stored out of line, uncompressed.
  await db.sql(`INSERT INTO ${table} (id, grp, doc) VALUES (-1, 0, $1)`, [docText({ toast: 7 })])
  const [stored] = await db.sql(`SELECT pg_column_size(doc) AS size, reltoastrelid::regclass::text AS toast
    FROM ${table}, pg_class WHERE id = -1 AND pg_class.oid = '${table}'::regclass`)
  const [chunks] = await db.sql(`SELECT count(*)::int AS n FROM ${stored.toast}`)
  expect(stored.size).toBeGreaterThan(2000)
  expect(chunks.n).toBeGreaterThan(0)
  await db.sql(`DELETE FROM ${table}`)
})
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()))
  await db?.drop()
})

/** A reader of the run: `base` is what it inherited from the reader it resumed from. */
interface Tracked {
  label: string
  def: ShapeDefinition
  reader: LiveReader
  base: StreamItem[]
  error?: unknown
}
const history = (t: Tracked): StreamItem[] => [...t.base, ...t.reader.items]

const totals = {
  runs: 0, identityFull: 0, identityDefault: 0, firstPublish: 0, xipRuns: 0, multiChunkRuns: 0,
  shapes: 0, mustRefetch: 0, rotations: 0,
  resumed: { 'snapshot-end': 0, 'mid-snapshot': 0, change: 0, 'up-to-date': 0, 'must-refetch': 0 },
  committed: 0, rolledBack: 0, undone: 0, failedStatements: 0, unchangedToastUpdates: 0,
}

async function prepare(spec: RunSpec): Promise<void> {
  await db.sql(`DELETE FROM ${table}`)
  await db.sql(`ALTER TABLE ${table} REPLICA IDENTITY ${spec.identity === 'full' ? 'FULL' : 'DEFAULT'}`)
  const [member] = await db.sql(`SELECT count(*)::int AS n FROM pg_publication_tables WHERE pubname = $1 AND tablename = $2`, [publicationName, table])
  if (member.n && !spec.published) await db.sql(`ALTER PUBLICATION ${publicationName} DROP TABLE ${table}`)
  if (!member.n && spec.published) await db.sql(`ALTER PUBLICATION ${publicationName} ADD TABLE ${table}`)
  for (const { id, row } of initialRows(spec)) {
    await db.sql(`INSERT INTO ${table} VALUES ($1, $2, $3, $4, $5)`, [id, row.grp, row.val, row.flag, docText(row.doc)])
  }
}

async function runOnce(spec: RunSpec): Promise<void> {
  await prepare(spec)
  const engine = await startEngine(db.url, {
    liveTimeoutMs: 100, chunkBytes: spec.chunkBytes, maxLogEntries: spec.maxLogEntries, publicationName,
    // The engine's ALTER TABLE queues the writers' statements behind it while it waits for their open
    // transactions: short tries keep the harness's writers moving (as many tries as the default's 9 s).
    tableLockTimeoutMs: 100, tableLockAttempts: 90,
  })
  const counters: WorkloadCounters = { committed: 0, rolledBack: 0, undone: 0, failedStatements: 0, unchangedToastUpdates: 0 }
  const writers = clients.slice(0, spec.writers).map((client, i) => new Writer(client, i, spec.writers, spec.programs[i]!, counters))
  const readers: Tracked[] = []
  const resumed: (keyof typeof totals.resumed)[] = []
  let rotations = 0
  const track = (label: string, def: ShapeDefinition, reader: LiveReader, base: StreamItem[] = []): void => {
    const tracked: Tracked = { label, def, reader, base }
    reader.done.catch((error) => { tracked.error = error })
    readers.push(tracked)
  }

  const perform = async (step: Step): Promise<void> => {
    if (step.kind === 'write') {
      // The chosen writer runs its next statement; one holding its transaction open passes to the next.
      for (let i = 0; i < writers.length; i++) if (await writers[(step.writer + i) % writers.length]!.step(false)) return
    } else if (step.kind === 'shape') {
      const def = shapeOf(table, step.shape)
      track(`#${readers.length} ${describeShape(def)}`, def, new LiveReader(engine, def))
    } else if (step.kind === 'resume' && readers.length) {
      const from = readers[step.reader % readers.length]!
      // A first snapshot waits for the table's open writers (the engine's publish wait, the ALTER's lock):
      // the writers go on meanwhile, as they would on their own, or this harness would wait for itself.
      let next = 0
      await bounded(until(() => history(from).some((i) => control(i.message) === 'snapshot-end') || from.error !== undefined,
        () => writers[next++ % writers.length]!.step(true)), `${from.label} to reach snapshot-end`)
      const items = history(from)
      const lastChange = items.findLastIndex((i) => kindOf(i) === 'change')
      const index = step.at === 'snapshot-end' ? items.findLastIndex((i) => control(i.message) === 'snapshot-end')
        : step.at === 'change' ? (lastChange >= 0 ? lastChange : items.length - 1)
          : step.at === 'last' ? items.length - 1 : Math.floor(step.at * items.length)
      if (index < 0) return // the reader failed before its snapshot: the convergence check reports it
      const at = items[index]!
      // Offset -1 starts over (no handle is sent, the log may be another one): nothing is kept.
      const prefix = at.offset === '-1' ? [] : items.slice(0, index + 1)
      const reader = new LiveReader(engine, from.def, { offset: at.offset, handle: at.handle })
      // Nothing arrives before this synchronous replay: the reader's first fetch is still pending.
      for (const item of prefix) reader.state.apply(item.message)
      resumed.push(kindOf(at))
      track(`#${readers.length} resumed from ${from.label.split(' ')[0]} at ${at.offset} (${kindOf(at)})`, from.def, reader, prefix)
    } else if (step.kind === 'rotate' && readers.length) {
      const handle = history(readers[step.reader % readers.length]!).at(-1)?.handle
      if (handle) rotations += engine.rotate({ handle })
    } else if (step.kind === 'pause') {
      await new Promise((r) => setTimeout(r, step.ms))
    } else if (step.kind === 'flush') {
      await engine.flush()
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  try {
    for (const step of spec.steps) await perform(step)
    // Then every writer finishes, held transactions included, still interleaved.
    for (let progressed = true; progressed;) {
      progressed = false
      for (const writer of writers) if (await writer.step(true)) progressed = true
    }
    const lsn = await engine.flush()
    await Promise.all(readers.map((tracked) => bounded(Promise.race([
      tracked.reader.reached(lsn),
      tracked.reader.done.then(() => { throw new Error('stream ended') }),
    ]), `${tracked.label} to reach ${lsn}`)))
    for (const tracked of readers) await expectRows(tracked)
  } finally {
    for (const client of clients) await client.query('ROLLBACK').catch(() => {}) // a failed run leaves none open
    await Promise.allSettled(readers.map((t) => t.reader.stop()))
    await engine.close()
  }

  const snapshotEnds = readers.flatMap((t) => t.reader.items).filter((i) => control(i.message) === 'snapshot-end')
  const all = readers.flatMap((t) => t.reader.items)
  totals.runs++
  totals[spec.identity === 'full' ? 'identityFull' : 'identityDefault']++
  if (!spec.published) totals.firstPublish++
  if (snapshotEnds.some((i) => (i.message.headers as { xip_list: string[] }).xip_list.length > 0)) totals.xipRuns++
  if (all.some((i) => isChangeMessage(i.message) && i.message.headers.lsn === undefined && i.offset.startsWith('0_'))) totals.multiChunkRuns++
  totals.shapes += readers.length
  totals.mustRefetch += all.filter((i) => control(i.message) === 'must-refetch').length
  totals.rotations += rotations
  for (const kind of resumed) totals.resumed[kind]++
  for (const key of Object.keys(counters) as (keyof WorkloadCounters)[]) totals[key] += counters[key]
}

/** The reader's rows equal the shape's query, as Postgres text (long values as length and digest). */
async function expectRows(tracked: Tracked): Promise<void> {
  if (tracked.error) throw tracked.error
  const selected = tracked.def.columns ?? columns
  const select = selected.map((c) => (c === 'flag' ? `CASE WHEN flag THEN 't' ELSE 'f' END AS flag` : `${c}::text AS ${c}`))
  const expected = await db.sql(
    `SELECT ${select.join(', ')} FROM ${table} ${tracked.def.where ? `WHERE ${tracked.def.where}` : ''} ORDER BY id`,
    tracked.def.params,
  )
  const actual = [...tracked.reader.state.rows.values()]
    // The snapshot reads bool::text ('true'), replication sends the output function's 't'.
    .map((r) => ('flag' in r ? { ...r, flag: r.flag === 'true' ? 't' : r.flag === 'false' ? 'f' : r.flag } : r))
    .sort((a, b) => Number(a.id) - Number(b.id))
  // Compared by key, reported as the rows the reader lacks, has in excess, or has with other values.
  const want = new Map(expected.map((r) => [r.id as string, summary(r)]))
  const have = new Map(actual.map((r) => [r.id as string, summary(r)]))
  const missing = [...want.keys()].filter((id) => !have.has(id)).map((id) => want.get(id))
  const extra = [...have.keys()].filter((id) => !want.has(id)).map((id) => have.get(id))
  const differing = [...want.keys()].filter((id) => have.has(id) && JSON.stringify(sorted(have.get(id)!)) !== JSON.stringify(sorted(want.get(id)!)))
    .map((id) => ({ reader: have.get(id), query: want.get(id) }))
  expect({ missing, extra, differing }, tracked.label).toEqual({ missing: [], extra: [], differing: [] })
}

const sorted = (row: Value): Value => Object.fromEntries(Object.entries(row).sort(([a], [b]) => a.localeCompare(b)))

function summary(row: Value): Value {
  const out: Value = {}
  for (const [key, value] of Object.entries(row)) {
    out[key] = value != null && value.length > 40
      ? `<${value.length} chars ${createHash('sha1').update(value).digest('hex').slice(0, 10)}>` : value
  }
  return out
}

const control = (message: Message): string | undefined => (isChangeMessage(message) ? undefined : message.headers.control)

function kindOf(item: StreamItem): keyof typeof totals.resumed {
  const c = control(item.message)
  if (c) return c as 'snapshot-end' | 'up-to-date' | 'must-refetch'
  return isChangeMessage(item.message) && item.message.headers.lsn !== undefined ? 'change' : 'mid-snapshot'
}

function describeShape(def: ShapeDefinition): string {
  return `${def.where ?? '(all rows)'}${def.params ? ` ${JSON.stringify(def.params)}` : ''}` +
    `${def.columns ? ` columns=${def.columns.join(',')}` : ''} replica=${def.replica}`
}

/** Polls `check`; every 20 ms it is still false, `meanwhile` runs (one writer statement). */
async function until(check: () => boolean, meanwhile?: () => Promise<unknown>): Promise<void> {
  for (let waited = 0; !check(); waited += 2) {
    await new Promise((r) => setTimeout(r, 2))
    if (meanwhile && waited > 0 && waited % 20 === 0) await meanwhile()
  }
}

async function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), readerWaitMs) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

describe('convergence', () => {
  it(`readers converge to the shape's query under concurrent writers (${runs} runs)`, async () => {
    await fc.assert(fc.asyncProperty(runs$, runOnce), { numRuns: runs, seed, path, endOnFailure: true })
    console.log(`[convergence] ${JSON.stringify(totals)}`)
    // The property keeps exercising what it is for: snapshots with transactions in flight, several
    // chunks, both identities, first publication under load, resumes, refetches, unchanged TOAST.
    if (runs >= 20) {
      expect(totals.xipRuns, 'runs whose snapshot had transactions in progress').toBeGreaterThanOrEqual(runs * 0.25)
      expect(totals.multiChunkRuns, 'runs with a snapshot of several chunks').toBeGreaterThanOrEqual(runs * 0.3)
      if (!pinned.identity) expect(Math.min(totals.identityFull, totals.identityDefault), 'runs of each replica identity').toBeGreaterThanOrEqual(runs * 0.25)
      if (pinned.published === undefined) expect(totals.firstPublish, 'runs that publish the table under load').toBeGreaterThanOrEqual(runs * 0.25)
      expect(totals.resumed['snapshot-end'], 'readers resumed at snapshot-end').toBeGreaterThanOrEqual(runs * 0.1)
      expect(totals.resumed['mid-snapshot'], 'readers resumed inside a snapshot').toBeGreaterThanOrEqual(runs * 0.1)
      expect(totals.resumed.change, 'readers resumed after a change').toBeGreaterThanOrEqual(runs * 0.05)
      expect(totals.mustRefetch, 'must-refetch answers followed').toBeGreaterThanOrEqual(runs * 0.1)
      expect(totals.unchangedToastUpdates, 'updates leaving a TOASTed value unchanged').toBeGreaterThanOrEqual(runs * 0.5)
      expect(totals.rolledBack, 'rolled-back transactions').toBeGreaterThanOrEqual(runs * 0.5)
    }
  }, Math.max(60_000, runs * 4_000))
})
