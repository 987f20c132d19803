// A database of its own for each test file, cloned from the migrated template, so files run in parallel.
import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import pg from 'pg'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../../generated/prisma/client.js'
import { withDatabase } from './global-setup.js'

export interface TestDatabase {
  name: string
  url: string
  prisma: PrismaClient
  /** A plain `pg` pool on the same database, for writes made "outside the app". */
  pool: pg.Pool
  sql<R extends pg.QueryResultRow = any>(text: string, params?: unknown[]): Promise<R[]>
  drop(): Promise<void>
}

export const pgMajor = (): number => inject('pgMajor')

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('pgUrl')
  const template = inject('pgTemplate')
  const name = `t_${randomBytes(6).toString('hex')}`
  await adminQuery(serverUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`)
  const url = withDatabase(serverUrl, name)
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) })
  const pool = new pg.Pool({ connectionString: url, max: 8 })
  pool.on('error', () => {}) // an idle connection ended by drop() or a fault test is not a failure
  return {
    name,
    url,
    prisma,
    pool,
    async sql(text, params) {
      return (await pool.query(text, params as unknown[])).rows
    },
    async drop() {
      await prisma.$disconnect()
      await pool.end()
      await dropDatabase(name)
    },
  }
}

/** Drops a test database with its replication slots (terminating its sessions first). */
export async function dropDatabase(name: string): Promise<void> {
  const serverUrl = inject('pgUrl')
  // A terminated walsender keeps its slot active for a moment: drop the slots until none is left.
  for (let attempt = 0; ; attempt++) {
    await adminQuery(serverUrl, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`)
    await adminQuery(serverUrl, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '${name}' AND NOT active`)
    try {
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      return
    } catch (error) {
      if (attempt > 50 || !/replication slot/.test((error as Error).message)) throw error
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

async function adminQuery(url: string, text: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await client.query(text)
      return
    } catch (error) {
      // Two files cloning the template at the same instant: Postgres refuses one; try again.
      if (attempt < 20 && /being accessed by other users/.test((error as Error).message)) {
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100))
        continue
      }
      throw error
    } finally {
      await client.end()
    }
  }
}
