// Shared by the benchmarks: a database with the project's schema, and the statistics we report.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { applyMigrations } from '../src/testing/migrate.js'
import type { PostgresServer } from '../src/testing/postgres.js'

export interface BenchDatabase {
  url: string
  drop(): Promise<void>
}

export async function createBenchDatabase(server: PostgresServer): Promise<BenchDatabase> {
  const name = `bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: server.url })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(server.url)
  url.pathname = `/${name}`
  await applyMigrations(url.toString(), 'prisma/migrations')
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: server.url })
      await c.connect()
      await c.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active`, [name]).catch(() => {})
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
      await c.end()
    },
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index]!
}

export const median = (values: number[]): number => percentile(values, 50)

export const round = (value: number, digits = 3): number => Number(value.toFixed(digits))

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Runs `fn` `times` times and returns the median of what it measured. */
export async function medianOf(times: number, fn: () => Promise<number>): Promise<number> {
  const results: number[] = []
  for (let i = 0; i < times; i++) results.push(await fn())
  return median(results)
}

/**
 * Polls `check` until it holds or `timeoutMs` passed; resolves to whether it held. A bench never throws
 * on a slow client: what did not arrive in time is counted and reported as a figure.
 */
export async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) return false
    await sleep(5)
  }
  return true
}

/** `promise`'s value, or undefined when it has not settled within `ms` (a rejection still rejects). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
