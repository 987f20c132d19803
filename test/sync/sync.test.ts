// createSync end to end: Prisma shapes through the embedded engine into sync.stream and sync.live,
// with rows equal to what findMany returns for the same where.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/prisma/client.js'
import { createSync, ShapeError, type Sync } from '../../src/index.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { waitFor } from '../support/until.js'

let db: TestDatabase
let sync: Sync
beforeAll(async () => {
  db = await createTestDatabase()
  sync = createSync({
    prisma: db.prisma,
    databaseUrl: db.url,
    engine: { slotName: `t_${randomBytes(5).toString('hex')}`, temporarySlot: true, liveTimeoutMs: 200 },
  })
})
afterAll(async () => {
  await sync?.close()
  await db?.drop()
})

const until = (check: () => boolean | Promise<boolean>, what: string) => waitFor(check, what, 5_000)

const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id))

describe('createSync', () => {
  it('keeps a live Prisma shape equal to findMany, with Prisma values', async () => {
    await db.prisma.allTypes.createMany({
      data: [
        { str: 'a%b', int: 1, big: 2n ** 60n, dec: new Prisma.Decimal('12.5'), date: new Date('2024-01-02T03:04:05.678Z'), json: { a: [1, 'x'] }, bytes: new Uint8Array([1, 2, 255]), status: 'in_progress', strs: ['x', 'y z'], ints: [1, -2] },
        { str: 'other', int: 5, status: 'done', strs: [], ints: [] },
      ],
    })
    const where = { OR: [{ status: 'in_progress' as const }, { int: { gt: 3 } }] }
    const live = sync.live(sync.shape(db.prisma.allTypes, { where }))
    await live.ready
    expect(byId(live.toArray())).toEqual(byId(await db.prisma.allTypes.findMany({ where })))

    await db.sql(`UPDATE all_types SET int_value = 2, status = 'open' WHERE str = 'other'`) // moves out
    await db.sql(`INSERT INTO all_types (id, str, int_value, strs, ints) VALUES (gen_random_uuid(), 'new', 9, '{}', '{}')`)
    await until(async () => {
      const expected = await db.prisma.allTypes.findMany({ where })
      try {
        expect(byId(live.toArray())).toEqual(byId(expected))
        return true
      } catch {
        return false
      }
    }, 'live shape to follow the writes')
    expect(byId(live.toArray())).toEqual(byId(await db.prisma.allTypes.findMany({ where })))
    live.close()
  })

  it('tells sync.live listeners of changes only, not of idle long-poll turns, and finds rows by id', async () => {
    const live = sync.live(sync.shape(db.prisma.todo, { where: { ownerId: 'u-idle' } }))
    await live.ready
    const batches: number[] = []
    live.subscribe((_rows, changes) => batches.push(changes.length))
    await new Promise((r) => setTimeout(r, 1000)) // five live timeouts (200 ms) with nothing to tell
    expect(batches).toEqual([])
    const todo = await db.prisma.todo.create({ data: { ownerId: 'u-idle', title: 'one' } })
    await until(() => batches.length > 0, 'the insert')
    expect(batches).toEqual([1])
    expect(live.get(todo.id)).toEqual(todo)
    live.close()
  })

  it('streams typed events with txids and select-narrowed rows', async () => {
    const shape = sync.shape(db.prisma.todo, { where: { ownerId: 'u-stream' }, select: { title: true, completed: true } })
    const controller = new AbortController()
    const events: unknown[] = []
    let upToDate!: () => void
    const ready = new Promise<void>((r) => (upToDate = r))
    const reading = (async () => {
      for await (const event of sync.stream(shape, { signal: controller.signal })) {
        events.push(event)
        if (event.type === 'up-to-date') upToDate()
        if (event.type === 'insert') {
          // Typed by select as findMany would be (the primary key is also sent, to key the rows).
          const row: { title: string; completed: boolean } = event.row
          expect(typeof row.completed).toBe('boolean')
        }
      }
    })()
    await ready
    const { txid } = await db.prisma.$transaction(async (tx) => {
      await tx.todo.create({ data: { title: 'first', ownerId: 'u-stream' } })
      const [row] = await tx.$queryRaw<{ txid: string }[]>`SELECT pg_current_xact_id()::xid::text AS txid`
      return { txid: Number(row!.txid) }
    })
    await until(() => events.some((e) => (e as { type: string }).type === 'insert'), 'insert event')
    const insert = events.find((e) => (e as { type: string }).type === 'insert') as { row: object; txids: number[] }
    expect(Object.keys(insert.row).sort()).toEqual(['completed', 'id', 'title'])
    expect(insert.txids).toEqual([txid])
    controller.abort()
    await reading
  })

  it('rejects bad shapes when they are defined', () => {
    expect(() => sync.shape(db.prisma.todo, { where: { nope: 1 } as never })).toThrow(ShapeError)
  })
})

describe('sync.close()', () => {
  it('ends a running `for await` over sync.stream cleanly, and a stream started after close throws where it is awaited', async () => {
    const ownDb = await createTestDatabase()
    const closing = createSync({
      prisma: ownDb.prisma, databaseUrl: ownDb.url,
      engine: { slotName: `t_${randomBytes(5).toString('hex')}`, temporarySlot: true },
    })
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => { unhandled.push(reason) }
    process.on('unhandledRejection', onUnhandled)
    try {
      const shape = closing.shape(ownDb.prisma.todo)
      let upToDate = false
      const seen: string[] = []
      // The README's loop: nothing around it catches.
      const loop = (async () => {
        for await (const event of closing.stream(shape)) {
          seen.push(event.type)
          if (event.type === 'up-to-date') upToDate = true
        }
        return 'ended'
      })()
      await until(() => upToDate, 'the stream to be live')
      await closing.close()
      await expect(loop).resolves.toBe('ended')
      expect(seen).not.toContain('must-refetch')
      const late = (async () => { for await (const event of closing.stream(shape)) void event })()
      await expect(late).rejects.toThrow(/closed/)
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
      await closing.close()
      await ownDb.drop()
    }
  })
})
