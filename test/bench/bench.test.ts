// Keeps `npm run bench` working: its quick size runs in CI and must produce every figure the issues
// ask for, as finite numbers. (No figure is asserted: tests never judge wall-clock time.)
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const ids = [
  'ingest.rows_per_s', 'pgoutput.raw_rows_per_s',
  'routing.us_per_change.shapes_10', 'routing.us_per_change.shapes_1000',
  'latency.commit_to_stream.p50_ms', 'latency.commit_to_stream.p99_ms',
  'http.initial_sync_100k.ms', 'prisma.find_many_100k.ms', 'http.longpoll_1000.p50_ms', 'http.longpoll_1000.p99_ms',
  'trpc.fanout_1000.p50_ms', 'trpc.fanout_1000.p99_ms', 'trpc.fanout_1000.events_per_s', 'ws.raw_broadcast.events_per_s',
  'notify.fanout_1000.p50_ms', 'notify.fanout_1000.p99_ms', 'polling.fanout_1000.p50_ms',
  'writer.batch10.ms', 'prisma.tx10.ms',
  'writes.commits_per_s.sync', 'writes.commits_per_s.notify', 'writes.commits_per_s.none', 'writes.commits_per_s.raw_slot',
  // A client that falls behind is counted, never a crash.
  'trpc.fanout_1000.slow_clients', 'notify.fanout_1000.slow_clients', 'http.longpoll_1000.slow_clients',
  'memory.subscribers_10000.mb',
  'routing.us_per_change.contains_10', 'routing.us_per_change.contains_1000',
  'isolation.victim_p99_ms', 'isolation.victim_p99_ms.baseline', 'isolation.victim_p99_ms.writes_only', 'isolation.victim_p99_ratio.shapes', 'isolation.victim_p99_ratio', 'isolation.victim_commit_p99_ms',
]

it('npm run bench -- --quick writes every figure', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trpc-sync-bench-'))
  try {
    await promisify(execFile)('npx', ['tsx', 'bench/index.ts', '--quick', `--out=${join(dir, 'results')}`], { maxBuffer: 1 << 24 })
    const report = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as { machine: Record<string, unknown>; results: Record<string, number> }
    expect(Object.keys(report.machine).sort()).toEqual(['cpus', 'memory_gb', 'node', 'postgres'])
    for (const id of ids) expect(Number.isFinite(report.results[id]), id).toBe(true)
    expect(await readFile(join(dir, 'results.md'), 'utf8')).toContain('| `ingest.rows_per_s` |')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}, 600_000)
