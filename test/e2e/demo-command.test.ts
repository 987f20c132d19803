// The README's first command, as a new user runs it: `npm run demo` starts the app (embedded Postgres,
// migrations, seed), prints its URL, serves /health, and stops on SIGTERM: the app closes its
// connections and the embedded Postgres, and no process of the group is left behind.
import { spawn } from 'node:child_process'
import { expect, it } from 'vitest'
import { freePort } from '../../src/testing/postgres.js'

it('npm run demo starts, serves /health and stops on SIGTERM', async () => {
  const port = await freePort()
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) }
  delete env.DATABASE_URL // the default a fresh clone gets: embedded Postgres
  const child = spawn('npm', ['run', 'demo', '--silent'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  child.stdout.on('data', (chunk) => { output += chunk })
  child.stderr.on('data', (chunk) => { output += chunk })
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  try {
    for (let i = 0; i < 600 && !output.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100))
    expect(output).toContain(`http://localhost:${port}`)
    const health = await fetch(`http://localhost:${port}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    const page = await fetch(`http://localhost:${port}/`)
    expect(await page.text()).toContain('data-live-view')
    // To the whole process group, as a terminal's Ctrl-C does (npm hands a signal sent to it alone to its
    // `sh -c`, which does not pass it on).
    process.kill(-child.pid!, 'SIGTERM')
    expect([0, 'SIGTERM']).toContain(await exited)
    for (let i = 0; i < 100 && groupAlive(child.pid!); i++) await new Promise((r) => setTimeout(r, 100))
    expect(groupAlive(child.pid!)).toBe(false)
    expect(output).toContain('SIGTERM: stopping')
    await expect(fetch(`http://localhost:${port}/health`)).rejects.toThrow()
  } finally {
    if (groupAlive(child.pid!)) process.kill(-child.pid!, 'SIGKILL')
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
