// `npm run bench [-- --quick]`: runs every benchmark in one process against one Postgres, so ratios
// compare figures measured in the same run, then writes bench/results.json and bench/results.md.
import { cpus, totalmem } from 'node:os'
import { writeFile } from 'node:fs/promises'
import { startPostgres } from '../src/testing/postgres.js'
import { runEngineBench } from './engine.js'
import { runWriterBench } from './writer.js'
import { runHttpBench } from './http.js'
import { runPollingBench } from './polling.js'
import { runTrpcBench } from './trpc.js'
import { within } from './support.js'
import { runIsolationBench } from './isolation.js'

const quick = process.argv.includes('--quick')
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',')
/** Where results go (default bench/results.json and bench/results.md). */
const out = process.argv.find((a) => a.startsWith('--out='))?.slice('--out='.length) ?? 'bench/results'

type Suite = (server: Awaited<ReturnType<typeof startPostgres>>, opts: { quick: boolean }) => Promise<Record<string, number>>
const suites: Record<string, Suite> = {
  engine: runEngineBench,
  writer: runWriterBench,
  http: runHttpBench,
  trpc: runTrpcBench,
  polling: runPollingBench,
  isolation: runIsolationBench,
}

/** A suite that has not finished in this long is recorded as failed and the run goes on. */
const suiteTimeoutMs = Number(process.argv.find((a) => a.startsWith('--suite-timeout-s='))?.slice('--suite-timeout-s='.length) ?? 1200) * 1000

const server = await startPostgres()
const results: Record<string, number> = {}
/** Suites that threw or timed out, with why: the others' results are written all the same. */
const failures: Record<string, string> = {}
/** The suite running now: an error thrown outside any promise a suite awaits is charged to it. */
let running = 'setup'
// An error no suite awaited (a client's 'error' event, work left behind by a timed-out suite) is recorded,
// not a crash that would lose every result.
const stray = (error: unknown) => {
  const why = (error as Error)?.stack ?? String(error)
  console.error(`[bench] ${running}: uncaught ${why}`)
  failures[running] ??= `uncaught: ${why}`
}
process.on('uncaughtException', stray)
process.on('unhandledRejection', stray)
try {
  for (const [name, suite] of Object.entries(suites)) {
    if (only && !only.includes(name)) continue
    running = name
    console.error(`[bench] ${name}…`)
    try {
      const figures = await within(suite(server, { quick }), suiteTimeoutMs)
      if (figures) Object.assign(results, figures)
      else failures[name] = `did not finish within ${suiteTimeoutMs / 1000} s`
    } catch (error) {
      failures[name] = (error as Error)?.stack ?? String(error)
    }
    if (failures[name]) console.error(`[bench] ${name} failed: ${failures[name]}`)
  }
  running = 'teardown'
} finally {
  // A suite that timed out may still hold connections: do not wait on it forever.
  await within(server.stop(), 30_000)
}
const machine = {
  cpus: cpus().length,
  memory_gb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  postgres: server.majorVersion,
}
const report = { machine, quick, results, ...(Object.keys(failures).length > 0 && { failures }) }
await writeFile(`${out}.json`, JSON.stringify(report, null, 2) + '\n')
await writeFile(`${out}.md`, markdown(report))
console.log(JSON.stringify(report))
// A failed suite fails the run (after writing what completed); exit so a timed-out one's handles end too.
process.exit(Object.keys(failures).length > 0 ? 1 : 0)

function markdown(r: typeof report): string {
  const lines = [
    `Machine: ${machine.cpus} cores, ${machine.memory_gb} GB, Node ${machine.node}, Postgres ${machine.postgres}${quick ? ' (quick size)' : ''}`,
    '',
    '| id | value |',
    '| --- | ---: |',
    ...Object.entries(r.results).map(([id, value]) => `| \`${id}\` | ${value} |`),
    ...Object.entries(r.failures ?? {}).flatMap(([suite, why]) => ['', `Suite \`${suite}\` failed: ${why.split('\n')[0]}`]),
  ]
  return lines.join('\n') + '\n'
}
