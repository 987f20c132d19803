// Starts one Postgres for the whole run (embedded, or DATABASE_URL) and prepares a template database
// with the migrations applied; each test file clones it into a database of its own (test/support/db.ts).
import type { TestProject } from 'vitest/node'
import pg from 'pg'
import { startPostgres, type PostgresServer } from '../../src/testing/postgres.js'
import { applyMigrations } from '../../src/testing/migrate.js'

let server: PostgresServer | undefined
let template = ''

export async function setup(project: TestProject) {
  server = await startPostgres()
  template = `trpc_sync_template_${process.pid}`
  const admin = new pg.Client({ connectionString: server.url })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${template}`)
  await admin.query(`CREATE DATABASE ${template}`)
  await admin.end()
  await applyMigrations(withDatabase(server.url, template), 'prisma/migrations')
  project.provide('pgUrl', server.url)
  project.provide('pgTemplate', template)
  project.provide('pgMajor', server.majorVersion)
  console.log(`[tests] Postgres ${server.majorVersion} (${server.kind})`)
}

export async function teardown() {
  if (!server) return
  if (server.kind === 'external') {
    const admin = new pg.Client({ connectionString: server.url })
    await admin.connect()
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => {})
    await admin.end()
  }
  await server.stop()
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string
    pgTemplate: string
    pgMajor: number
  }
}
