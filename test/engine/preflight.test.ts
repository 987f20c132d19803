// Misconfigured databases are reported before any stream starts, with the cause and the fix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPostgres, type PostgresServer } from '../../src/testing/postgres.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { startEngine } from '../support/engine.js'

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

describe('preflight', () => {
  it('names wal_level and how to enable logical replication', async () => {
    await expect(startPostgres({ databaseUrl: '', settings: { wal_level: 'replica' } }))
      .rejects.toThrow(/wal_level=replica.*ALTER SYSTEM SET wal_level = logical/)
    const server: PostgresServer = await startPostgres({ databaseUrl: '', settings: { wal_level: 'replica' }, requireLogical: false })
    try {
      await expect(startEngine(server.url)).rejects.toThrow(/wal_level=replica.*wal_level = logical/)
    } finally {
      await server.stop()
    }
  })

  it('names the missing REPLICATION attribute', async () => {
    const role = `norepl_${db.name}`
    await db.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'pw' NOSUPERUSER NOREPLICATION`)
    const url = new URL(db.url)
    url.username = role
    url.password = 'pw'
    await expect(startEngine(url.toString())).rejects.toThrow(`Run \`ALTER ROLE ${role} WITH REPLICATION;\``)
    await db.sql(`DROP ROLE ${role}`)
  })

  it('allows one engine per slot', async () => {
    const first = await startEngine(db.url, { slotName: `one_${db.name}` })
    try {
      await expect(startEngine(db.url, { slotName: `one_${db.name}`, lockTimeoutMs: 500 })).rejects.toThrow(/another trpc-sync engine holds replication slot/)
    } finally {
      await first.close()
    }
  })
})
