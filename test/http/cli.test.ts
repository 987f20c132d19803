// The standalone server's process: started as `trpc-sync-server` is (env only), stopped with SIGTERM. Its
// shape logs do not outlive it, so a clean stop drops its replication slot (which would otherwise make
// Postgres retain WAL while it is down), unless CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN=false keeps it.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { waitFor } from '../support/until.js'

const root = resolve(import.meta.dirname, '../..')
let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

async function runUntilSigterm(env: Record<string, string>): Promise<{ code: number | null; output: string; slotWhileRunning: boolean }> {
  const slot = `trpc_sync_${env.ELECTRIC_REPLICATION_STREAM_ID}`
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/http/cli.ts'], {
    cwd: root, env: { ...process.env, DATABASE_URL: db.url, ELECTRIC_INSECURE: 'true', PORT: '0', ...env }, stdio: 'pipe',
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
  try {
    await waitFor(() => /at http:\S+\/v1\/shape/.test(output), 'the server to listen', 30_000)
    const url = /at (http:\S+)\/v1\/shape/.exec(output)![1]!
    // A shape request makes sure the engine (and its slot) is up.
    const response = await fetch(`${url}/v1/shape?table=todos&offset=-1`)
    expect(response.status, output).toBe(200)
    const slotWhileRunning = (await db.sql(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [slot])).length === 1
    child.kill('SIGTERM')
    return { code: await exited, output, slotWhileRunning }
  } finally {
    child.kill('SIGKILL')
  }
}

const streamId = (what: string) => `cli_${what}_${randomBytes(4).toString('hex')}`

describe('trpc-sync-server on SIGTERM', () => {
  it('exits 0 and drops its replication slot', { timeout: 60_000 }, async () => {
    const id = streamId('drop')
    const result = await runUntilSigterm({ ELECTRIC_REPLICATION_STREAM_ID: id })
    expect(result.slotWhileRunning, result.output).toBe(true)
    expect(result.code, result.output).toBe(0)
    expect(await db.sql(`SELECT slot_name FROM pg_replication_slots WHERE slot_name = $1`, [`trpc_sync_${id}`])).toEqual([])
  })

  it('keeps the slot with CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN=false, and says what that costs', { timeout: 60_000 }, async () => {
    const id = streamId('keep')
    const result = await runUntilSigterm({ ELECTRIC_REPLICATION_STREAM_ID: id, CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN: 'false' })
    expect(result.code, result.output).toBe(0)
    expect(result.output).toMatch(/warning: .*keeps the replication slot.*retains WAL/)
    expect(await db.sql(`SELECT slot_name FROM pg_replication_slots WHERE slot_name = $1`, [`trpc_sync_${id}`])).toHaveLength(1)
    await db.sql(`SELECT pg_drop_replication_slot($1)`, [`trpc_sync_${id}`])
  })
})
