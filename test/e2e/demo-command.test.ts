// The README's first command, as a new user runs it: `npm run demo` starts the app (embedded Postgres,
// migrations, seed), prints its URL and a psql command, serves /health, and stops on SIGTERM: the app
// closes its connections and the embedded Postgres, and no process of the group is left behind — also
// when the Postgres it uses went away first.
import { spawn, type ChildProcess } from 'node:child_process'
import { expect, it } from 'vitest'
import { freePort, startPostgres } from '../../src/testing/postgres.js'

interface DemoProcess {
  child: ChildProcess
  port: number
  output: () => string
  exited: Promise<number | string | null>
}

async function startDemoCommand(databaseUrl: string | undefined): Promise<DemoProcess> {
  const port = await freePort()
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) }
  if (databaseUrl) env.DATABASE_URL = databaseUrl
  else delete env.DATABASE_URL // the default a fresh clone gets: embedded Postgres
  const child = spawn('npm', ['run', 'demo', '--silent'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  child.stdout!.on('data', (chunk) => { output += chunk })
  child.stderr!.on('data', (chunk) => { output += chunk })
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  for (let i = 0; i < 600 && !output.includes('psql'); i++) await new Promise((r) => setTimeout(r, 100))
  return { child, port, output: () => output, exited }
}

/** To the whole process group, as a terminal's Ctrl-C does (npm hands a signal sent to it alone to its `sh -c`, which does not pass it on). */
async function stopGroup(demo: DemoProcess): Promise<number | string | null> {
  process.kill(-demo.child.pid!, 'SIGTERM')
  const code = await demo.exited
  for (let i = 0; i < 100 && groupAlive(demo.child.pid!); i++) await new Promise((r) => setTimeout(r, 100))
  expect(groupAlive(demo.child.pid!)).toBe(false)
  return code
}

it('npm run demo starts, serves /health and stops on SIGTERM', async () => {
  const demo = await startDemoCommand(undefined)
  try {
    expect(demo.output()).toContain(`http://localhost:${demo.port}`)
    // The README says to change rows with psql: the demo prints the command with its database's URL.
    expect(demo.output()).toMatch(/psql 'postgres(ql)?:\/\/[^']+' -c "UPDATE todos/)
    const health = await fetch(`http://localhost:${demo.port}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    const page = await fetch(`http://localhost:${demo.port}/`)
    expect(await page.text()).toContain('data-live-view')
    expect([0, 'SIGTERM']).toContain(await stopGroup(demo))
    expect(demo.output()).toContain('SIGTERM: stopping')
    await expect(fetch(`http://localhost:${demo.port}/health`)).rejects.toThrow()
  } finally {
    if (groupAlive(demo.child.pid!)) process.kill(-demo.child.pid!, 'SIGKILL')
  }
}, 120_000)

it('exits after SIGTERM even when its Postgres is gone (a bounded shutdown)', async () => {
  const external = process.env.DATABASE_URL
  delete process.env.DATABASE_URL // a Postgres of this test's own, to stop under the demo
  const postgres = await startPostgres().finally(() => { if (external !== undefined) process.env.DATABASE_URL = external })
  const demo = await startDemoCommand(postgres.url)
  try {
    expect(demo.output()).toContain(`http://localhost:${demo.port}`)
    await postgres.stop()
    // Exits by itself (0 after a clean close, 1 after the bound) rather than waiting for a second signal.
    expect([0, 1, 'SIGTERM']).toContain(await stopGroup(demo))
    expect(demo.output()).toContain('SIGTERM: stopping')
  } finally {
    if (groupAlive(demo.child.pid!)) process.kill(-demo.child.pid!, 'SIGKILL')
    await postgres.stop()
  }
}, 120_000)

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}
