// The same subscriptions in http mode: createSync({ mode: 'http' }) reads shapes from an Electric-protocol
// server in a second process (the project's standalone server, standing in for Electric). Events are not
// shared objects there (each response is parsed), and resume positions are Electric's own offsets.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import { liveShape } from '../../client/index.js'
import { createSync } from '../../src/index.js'
import { spawnShapeServer, type SpawnedServer } from '../http/support.js'
import { byId, converges, record, startApp, until, type Recording, type TestApp } from './support.js'

const secret = `s3cret-${randomBytes(8).toString('hex')}`
let electric: SpawnedServer | undefined
let app: TestApp
beforeAll(async () => {
  app = await startApp({
    sync: async (db) => {
      db.pool.on('error', () => {})
      electric = await spawnShapeServer({
        DATABASE_URL: db.url,
        ELECTRIC_SECRET: secret,
        ELECTRIC_LONG_POLL_TIMEOUT: '2000',
        ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD: '1500',
        ELECTRIC_REPLICATION_STREAM_ID: randomBytes(5).toString('hex'),
        CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN: 'true',
      })
      return createSync({ mode: 'http', url: electric.url, secret, prisma: db.prisma })
    },
  })
})
afterAll(async () => {
  await app?.close()
  await electric?.stop()
})

const changeIds = (r: Recording) => r.events.filter((e) => 'key' in e.data).map((e) => e.id)

describe('shape subscriptions in http mode', () => {
  it('keeps clients equal to findMany, resumes killed sockets exactly, and refetches for a forged id', async () => {
    await app.db.sql(`INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), 'seed ' || i, 'olga' FROM generate_series(1, 80) i`)
    const client = app.client('olga')
    const open = liveShape(client.todos.sync, { where: { completed: false } })
    const reference = record(app.client('olga').todos.sync, {})
    const victimClient = app.client('olga')
    const kills = new Set([5, 60, 95])
    const victim = record(victimClient.todos.sync, {}, (_event, count) => {
      if (kills.has(count)) (victimClient.$ws.connection?.ws as unknown as WebSocket | undefined)?.terminate()
    })
    await open.ready
    await until(() => reference.upToDates > 0 && victim.upToDates > 0, 'subscribers ready', 30_000)
    for (let i = 0; i < 40; i++) {
      await app.db.sql(`INSERT INTO todos (id, title, owner_id, is_completed) VALUES (gen_random_uuid(), $1, 'olga', $2)`, [`live ${i}`, i % 3 === 0])
    }
    await app.db.sql(`UPDATE todos SET is_completed = true WHERE title LIKE 'seed 1%'`)
    const expected = () => app.db.prisma.todo.findMany({ where: { ownerId: 'olga', completed: false } })
    await converges(() => byId(open.rows.values()), async () => byId(await expected()), 'the open todos')
    const all = await app.db.prisma.todo.count({ where: { ownerId: 'olga' } })
    await until(() => [reference, victim].every((r) => r.data().filter((e) => e.type === 'insert').length >= all && r.data().at(-1)?.type === 'up-to-date'), 'both recordings', 30_000)
    await until(() => changeIds(victim).length === changeIds(reference).length, 'the victim to catch up', 30_000)
    expect(changeIds(victim)).toEqual(changeIds(reference))

    const forged = record(client.todos.sync, { lastEventId: reference.events.at(-1)!.id.replace(/:[^:]+$/, ':' + 'B'.repeat(22)) })
    await until(() => forged.upToDates > 0, 'the forged subscription')
    expect(forged.data()[0]).toEqual({ type: 'must-refetch' })
    for (const r of [reference, victim, forged]) r.stop()
    open.close()
  })

  it("answers a shape Electric rejects with BAD_REQUEST naming the parameter, never Electric's text", async () => {
    const broken = record(app.client('olga').broken.sql, undefined)
    await until(() => broken.error !== undefined, 'the answer')
    expect(broken.error.data?.code).toBe('BAD_REQUEST')
    expect(broken.error.message).toBe("Electric rejected the request's where")
    expect(broken.error.data?.requestId).toMatch(/^[0-9a-f]{16}$/)
    expect(broken.events).toEqual([])
  })
})
