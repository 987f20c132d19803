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

const server = await startPostgres()
const results: Record<string, number> = {}
try {
  for (const [name, suite] of Object.entries(suites)) {
    if (only && !only.includes(name)) continue
    console.error(`[bench] ${name}…`)
    Object.assign(results, await suite(server, { quick }))
  }
} finally {
  await server.stop()
}
const machine = {
  cpus: cpus().length,
  memory_gb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  postgres: server.majorVersion,
}
const report = { machine, quick, results }
await writeFile(`${out}.json`, JSON.stringify(report, null, 2) + '\n')
await writeFile(`${out}.md`, markdown(report))
console.log(JSON.stringify(report))

function markdown(r: typeof report): string {
  const lines = [
    `Machine: ${machine.cpus} cores, ${machine.memory_gb} GB, Node ${machine.node}, Postgres ${machine.postgres}${quick ? ' (quick size)' : ''}`,
    '',
    '| id | value |',
    '| --- | ---: |',
    ...Object.entries(r.results).map(([id, value]) => `| \`${id}\` | ${value} |`),
  ]
  return lines.join('\n') + '\n'
}
