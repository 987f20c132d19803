// Publishing tables for shapes (issue 11): writers open at the first publish, replica identity that is
// not FULL (at start or later), partitioned tables, and table locks the engine must not queue behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import pg from 'pg'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { LiveReader, shapeOf, startEngine } from '../support/engine.js'
import { waitFor } from '../support/until.js'
import type { EmbeddedEngine } from '../../src/engine/index.js'
import { errorResponse } from '../../src/http/response.js'
import type { ShapeDefinition } from '../../src/shape/definition.js'

let db: TestDatabase
let engine: EmbeddedEngine
const logged: string[] = []
beforeAll(async () => {
  db = await createTestDatabase()
  engine = await startEngine(db.url, { liveTimeoutMs: 200, log: (m) => logged.push(m) })
})
afterAll(async () => {
  await engine?.close()
  await db?.drop()
})

const settle = async (reader: LiveReader, on = engine): Promise<void> => reader.reached(await on.flush())

const md5 = (text: string) => createHash('md5').update(text).digest('hex')

/** The reader's rows sorted by id, as text values (what `SELECT col::text ... WHERE` returns); `big` as its md5. */
const readerRows = (reader: LiveReader): Record<string, unknown>[] =>
  [...reader.state.rows.values()]
    .map((r): Record<string, unknown> => (typeof r.big === 'string' ? { ...r, big: md5(r.big) } : { ...r }))
    .sort((a, b) => String(a.id).localeCompare(String(b.id)))

async function queryRows(sql: string): Promise<Record<string, unknown>[]> {
  const rows = await db.sql(sql)
  return rows.sort((a, b) => String(a.id).localeCompare(String(b.id)))
}

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  return client
}

const identity = async (table: string): Promise<string> =>
  (await db.sql(`SELECT relreplident::text AS r FROM pg_class WHERE oid = $1::regclass`, [table]))[0].r

describe('first publish of a table', () => {
  it('waits for transactions that wrote to the table before it was published, for every concurrent shape', async () => {
    // FULL already: the engine's ALTER TABLE (which waits for every open transaction) does not run.
    await db.sql(`CREATE TABLE race (id int PRIMARY KEY, v text NOT NULL)`)
    await db.sql(`ALTER TABLE race REPLICA IDENTITY FULL`)
    await db.sql(`INSERT INTO race VALUES (1, 'before')`)
    const writer = await connect()
    await writer.query('BEGIN')
    await writer.query(`INSERT INTO race VALUES (2, 'open writer')`)

    const all = new LiveReader(engine, shapeOf('race'))
    let firstReady = false
    void all.nextUpToDate().then(() => { firstReady = true })
    await waitFor(async () => (await db.sql(`SELECT 1 FROM pg_publication_tables WHERE tablename = 'race'`)).length > 0, 'race published', 10_000)
    // A second shape of the table, created while the first one's publish is in progress.
    const some = new LiveReader(engine, shapeOf('race', { where: `v <> 'x'` }))
    // Give a shape that does not wait the time to take its snapshot before the writer commits.
    await waitFor(() => firstReady, 'a snapshot', 500).catch(() => {})
    await writer.query('COMMIT')
    await writer.end()

    await settle(all)
    await settle(some)
    const expected = await queryRows(`SELECT id::text, v FROM race`)
    expect(expected).toHaveLength(2)
    expect(readerRows(all)).toEqual(expected)
    expect(readerRows(some)).toEqual(expected)
    await all.stop()
    await some.stop()
  })

  it('gives up waiting for a writer after the lock timeout, naming the table, and works once it ends', async () => {
    const short = await startEngine(db.url, { liveTimeoutMs: 200, tableLockTimeoutMs: 200, tableLockAttempts: 2 })
    const writer = await connect()
    try {
      await db.sql(`CREATE TABLE stuck (id int PRIMARY KEY)`)
      await db.sql(`ALTER TABLE stuck REPLICA IDENTITY FULL`)
      await writer.query('BEGIN')
      await writer.query(`INSERT INTO stuck VALUES (1)`)
      const error = await short.fetch(shapeOf('stuck'), { offset: '-1' }).then(() => undefined, (e: Error) => e)
      expect(error?.message).toMatch(/"public"\."stuck".*transaction/)
      const { result } = errorResponse(error)
      expect(result.status).toBe(503)
      expect(JSON.parse(result.body as string)).toEqual({ code: 'table_locked', error: error!.message, requestId: expect.any(String) })
      await writer.query('COMMIT')
      const reader = new LiveReader(short, shapeOf('stuck'))
      await settle(reader, short)
      expect(readerRows(reader)).toEqual([{ id: '1' }])
      await reader.stop()
    } finally {
      await writer.end()
      await short.close()
    }
  })
})

describe('replica identity', () => {
  const big = `(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 320))` // 10 kB, TOASTed
  const def: ShapeDefinition = shapeOf('ident', { where: `tag = 'a'` })
  const expected = () => queryRows(`SELECT id::text, tag, md5(big) AS big FROM ident WHERE tag = 'a'`)

  it('sets FULL on the first shape and rotates the shapes when a change arrives without the old row', async () => {
    await db.sql(`CREATE TABLE ident (id int PRIMARY KEY, tag text NOT NULL, big text NOT NULL)`)
    await db.sql(`INSERT INTO ident SELECT i, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END, ${big} FROM generate_series(1, 6) i`)
    expect(await identity('ident')).toBe('d')
    const reader = new LiveReader(engine, def)
    await settle(reader)
    expect(await identity('ident')).toBe('f')
    expect(readerRows(reader)).toEqual(await expected())

    // With FULL: unchanged TOASTed values, a key change and a delete filtered on a non-key column.
    await db.sql(`UPDATE ident SET tag = 'a' WHERE id = 1`)
    await db.sql(`UPDATE ident SET id = 12 WHERE id = 2`)
    await db.sql(`DELETE FROM ident WHERE id = 4`)
    await settle(reader)
    expect(readerRows(reader)).toEqual(await expected())

    // Someone sets the identity back to DEFAULT: each kind of change must rotate, not guess.
    for (const change of [
      `UPDATE ident SET tag = 'a' WHERE id = 3`, // unchanged TOASTed value, no old row
      `UPDATE ident SET id = 16 WHERE id = 6`, // key change: only the old key
      `DELETE FROM ident WHERE id = 12`, // only the key; the shape filters on tag
    ]) {
      await db.sql(`ALTER TABLE ident REPLICA IDENTITY DEFAULT`)
      logged.length = 0
      await db.sql(change)
      await settle(reader)
      expect(readerRows(reader), change).toEqual(await expected())
      expect(await identity('ident')).toBe('f') // set again by the shape that replaced the rotated one
      expect(logged.join('\n')).toMatch(/"public"\."ident".*replica identity/i)
    }
    await reader.stop()
  })

  it('refuses a table it cannot ALTER, naming the table and the fix', async () => {
    const role = `notowner_${db.name}`
    await db.sql(`CREATE TABLE owned (id int PRIMARY KEY)`)
    await db.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'pw' REPLICATION`)
    await db.sql(`GRANT CREATE ON DATABASE ${db.name} TO ${role}`)
    await db.sql(`GRANT SELECT ON owned TO ${role}`)
    const url = new URL(db.url)
    url.username = role
    url.password = 'pw'
    const other = await startEngine(url.toString(), { publicationName: `pub_${role}` })
    try {
      const error = await other.fetch(shapeOf('owned'), { offset: '-1' }).then(() => undefined, (e: Error) => e)
      expect(error?.message).toMatch(/"public"\."owned".*ALTER TABLE "public"\."owned" REPLICA IDENTITY FULL/)
      const { result } = errorResponse(error)
      expect(result.status).toBe(400)
      expect(result.body).not.toMatch(/must be owner/)
    } finally {
      await other.close()
      await db.sql(`DROP OWNED BY ${role}`)
      await db.sql(`DROP ROLE ${role}`)
    }
  })
})

describe('partitioned tables', () => {
  const def: ShapeDefinition = shapeOf('parts', { where: `v <> 'hidden'` })
  const expected = () => queryRows(`SELECT id::text, region, v FROM parts WHERE v <> 'hidden'`)

  it('streams changes of every partition to a shape on the parent, including moves between partitions', async () => {
    await db.sql(`CREATE TABLE parts (id int, region text, v text NOT NULL, PRIMARY KEY (id, region)) PARTITION BY LIST (region)`)
    await db.sql(`CREATE TABLE parts_eu PARTITION OF parts FOR VALUES IN ('eu')`)
    await db.sql(`CREATE TABLE parts_us PARTITION OF parts FOR VALUES IN ('us')`)
    await db.sql(`INSERT INTO parts VALUES (1, 'eu', 'one'), (2, 'us', 'two')`)
    const reader = new LiveReader(engine, def)
    await settle(reader)
    expect(readerRows(reader)).toEqual(await expected())

    for (const change of [
      `INSERT INTO parts VALUES (3, 'eu', 'three'), (4, 'us', 'hidden')`,
      `UPDATE parts SET v = 'uno' WHERE id = 1`,
      `UPDATE parts SET v = 'four' WHERE id = 4`, // moves into the shape
      `UPDATE parts SET region = 'us' WHERE id = 3`, // moves between partitions
      `UPDATE parts SET v = 'hidden' WHERE id = 2`, // leaves the shape
      `DELETE FROM parts WHERE id = 1`,
    ]) {
      await db.sql(change)
      await settle(reader)
      expect(readerRows(reader), change).toEqual(await expected())
    }
    expect(await identity('parts_eu')).toBe('f') // ALTER TABLE on the parent does not recurse
    expect(await identity('parts_us')).toBe('f')

    // A partition attached later has replica identity DEFAULT: its first update rotates, the next shape fixes it.
    await db.sql(`CREATE TABLE parts_asia (id int, region text, v text NOT NULL, PRIMARY KEY (id, region))`)
    await db.sql(`ALTER TABLE parts ATTACH PARTITION parts_asia FOR VALUES IN ('asia')`)
    await db.sql(`INSERT INTO parts VALUES (5, 'asia', 'five')`)
    await settle(reader)
    expect(readerRows(reader)).toEqual(await expected())
    await db.sql(`UPDATE parts SET v = 'cinq' WHERE id = 5`)
    await settle(reader)
    expect(readerRows(reader)).toEqual(await expected())
    expect(await identity('parts_asia')).toBe('f')
    await db.sql(`DELETE FROM parts WHERE id = 5`)
    await settle(reader)
    expect(readerRows(reader)).toEqual(await expected())
    await reader.stop()
  })

  it('rotates the shapes after partition changes Postgres does not replicate: ATTACH, DETACH, DROP, TRUNCATE of a partition', async () => {
    const reader = new LiveReader(engine, def)
    await settle(reader)
    expect(readerRows(reader)).toEqual(await expected())
    const same = async () => JSON.stringify(readerRows(reader)) === JSON.stringify(await expected())
    for (const change of [
      [`CREATE TABLE parts_apac (id int, region text, v text NOT NULL, PRIMARY KEY (id, region))`,
        `INSERT INTO parts_apac VALUES (7, 'apac', 'seven')`,
        `ALTER TABLE parts ATTACH PARTITION parts_apac FOR VALUES IN ('apac')`],
      [`INSERT INTO parts VALUES (8, 'us', 'eight')`, `TRUNCATE parts_us`],
      [`INSERT INTO parts VALUES (9, 'eu', 'nine')`, `ALTER TABLE parts DETACH PARTITION parts_eu`],
      [`DROP TABLE parts_apac`],
    ]) {
      for (const statement of change) await db.sql(statement)
      await waitFor(same, `rows equal to the query after ${change.at(-1)}`, 15_000, 50)
    }
    expect(readerRows(reader)).toEqual(await expected())
    await reader.stop()
  })

  it('refuses a shape on one partition, naming the partitioned table to sync instead', async () => {
    const error = await engine.fetch(shapeOf('parts_us'), { offset: '-1' }).then(() => undefined, (e: Error) => e)
    expect(error?.message).toMatch(/"public"\."parts_us" is a partition of "public"\."parts"/)
    expect(errorResponse(error).result.status).toBe(400)
  })
})

describe('table locks', () => {
  it('does not queue other queries behind its ALTER TABLE: gives up, names the table, works once the lock is gone', async () => {
    const short = await startEngine(db.url, { liveTimeoutMs: 200, tableLockTimeoutMs: 300, tableLockAttempts: 2 })
    const holder = await connect()
    const reader = await connect()
    try {
      await db.sql(`CREATE TABLE locked (id int PRIMARY KEY, v text)`)
      await db.sql(`INSERT INTO locked VALUES (1, 'one')`)
      await holder.query('BEGIN')
      await holder.query(`SELECT * FROM locked`) // a long transaction holding ACCESS SHARE
      const shape = short.fetch(shapeOf('locked'), { offset: '-1' }).then(() => undefined, (e: Error) => e)
      // The engine's ALTER TABLE is waiting for the lock: a plain SELECT arriving now queues behind it.
      await waitFor(async () => (await db.sql(
        `SELECT 1 FROM pg_locks WHERE relation = 'locked'::regclass AND mode = 'AccessExclusiveLock' AND NOT granted`,
      )).length > 0, 'the ALTER TABLE waiting', 10_000, 5)
      const select = reader.query(`SELECT count(*)::int AS n FROM locked`)
      let selected = false
      void select.then(() => { selected = true })
      // The SELECT finishes while the long transaction is still open: the ALTER gave up.
      await waitFor(() => selected, 'the SELECT queued behind the ALTER', 15_000)
      expect((await select).rows[0].n).toBe(1)
      const error = await shape
      expect(error?.message).toMatch(/"public"\."locked".*lock/)
      const { result } = errorResponse(error)
      expect(result.status).toBe(503)
      expect(JSON.parse(result.body as string)).toEqual({ code: 'table_locked', error: error!.message, requestId: expect.any(String) })
      await holder.query('COMMIT')
      const live = new LiveReader(short, shapeOf('locked'))
      await settle(live, short)
      expect(readerRows(live)).toEqual([{ id: '1', v: 'one' }])
      await live.stop()
    } finally {
      await holder.end()
      await reader.end()
      await short.close()
    }
  })

  it('gives up adding the table to the publication behind a lock, naming the table', async () => {
    const short = await startEngine(db.url, { liveTimeoutMs: 200, tableLockTimeoutMs: 200, tableLockAttempts: 2 })
    const holder = await connect()
    try {
      await db.sql(`CREATE TABLE vacuumed (id int PRIMARY KEY)`)
      await db.sql(`ALTER TABLE vacuumed REPLICA IDENTITY FULL`)
      await holder.query('BEGIN')
      await holder.query(`LOCK TABLE vacuumed IN SHARE UPDATE EXCLUSIVE MODE`) // what VACUUM or CREATE INDEX CONCURRENTLY hold
      const error = await short.fetch(shapeOf('vacuumed'), { offset: '-1' }).then(() => undefined, (e: Error) => e)
      expect(error?.message).toMatch(/add to the publication for table "public"\."vacuumed": a long transaction holds a lock/)
      expect(errorResponse(error).result.status).toBe(503)
      await holder.query('COMMIT')
      expect((await short.fetch(shapeOf('vacuumed'), { offset: '-1' })).status).toBe('ok')
    } finally {
      await holder.end()
      await short.close()
    }
  })
})
