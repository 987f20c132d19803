#!/usr/bin/env node
// `trpc-sync-server`: the standalone Electric-compatible sync service, configured like Electric.
//   DATABASE_URL (required, wal_level=logical), PORT (3000), HOST,
//   ELECTRIC_SECRET (or ELECTRIC_INSECURE=true), ELECTRIC_ENABLE_INTEGRATION_TESTING=true (shape DELETE),
//   ELECTRIC_LONG_POLL_TIMEOUT (ms), ELECTRIC_CACHE_MAX_AGE / ELECTRIC_CACHE_STALE_AGE (s),
//   ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD, ELECTRIC_REPLICATION_STREAM_ID (slot/publication suffix),
//   CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN (default true: the slot is dropped on SIGINT/SIGTERM, as the shape
//   logs do not outlive the process; `false` keeps it, and Postgres retains WAL for it while the server is down).
import { redactUrl } from '../engine/database-url.js'
import { startShapeServer } from './server.js'

const env = process.env
const number = (name: string): number | undefined => (env[name] ? Number(env[name]) : undefined)
const log = (message: string) => console.log(`[trpc-sync] ${message}`)
/** Unset settings keep the engine's defaults. */
const definedOnly = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

async function main(): Promise<void> {
  const databaseUrl = env.DATABASE_URL
  if (!databaseUrl) throw new Error('set DATABASE_URL to a Postgres with wal_level=logical')
  const secret = env.ELECTRIC_SECRET || undefined
  if (!secret && env.ELECTRIC_INSECURE !== 'true') {
    throw new Error('set ELECTRIC_SECRET (clients then pass ?secret=...), or ELECTRIC_INSECURE=true to serve shapes without one')
  }
  const streamId = env.ELECTRIC_REPLICATION_STREAM_ID
  const keepSlot = env.CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN === 'false'
  if (keepSlot) {
    log('warning: CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN=false keeps the replication slot after shutdown; Postgres retains ' +
      'WAL for it until this server runs again, and shape logs are in memory (clients refetch after a restart anyway)')
  }
  const running = await startShapeServer({
    databaseUrl,
    port: number('PORT') ?? 3000,
    host: env.HOST || undefined,
    secret,
    allowShapeDeletion: env.ELECTRIC_ENABLE_INTEGRATION_TESTING === 'true',
    liveTimeoutMs: number('ELECTRIC_LONG_POLL_TIMEOUT'),
    maxAge: number('ELECTRIC_CACHE_MAX_AGE'),
    staleAge: number('ELECTRIC_CACHE_STALE_AGE'),
    engine: definedOnly({
      chunkBytes: number('ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD'),
      slotName: streamId ? `trpc_sync_${streamId}` : undefined,
      publicationName: streamId ? `trpc_sync_publication_${streamId}` : undefined,
      temporarySlot: keepSlot ? false : undefined,
      liveTimeoutMs: number('ELECTRIC_LONG_POLL_TIMEOUT'),
      log,
    }),
    // Server errors are logged without request URLs (they carry the secret).
    onError: (error, { requestId }) => log(`error (request ${requestId}): ${describe(error)}`),
  })
  log(`serving ${redactUrl(databaseUrl)} at ${running.url}/v1/shape`)
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await running.close().catch((error: Error) => log(`error while stopping: ${error.message}`))
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((error: Error) => {
  console.error(`[trpc-sync] ${error.message}`)
  process.exit(1)
})

/** An error and its causes, one `name: message` each (the original Postgres error is a cause). */
function describe(error: unknown): string {
  const parts: string[] = []
  for (let e: unknown = error; e !== undefined && parts.length < 5; e = (e as { cause?: unknown }).cause) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e))
    if (!(e instanceof Error)) break
  }
  return parts.join(' <- ')
}
