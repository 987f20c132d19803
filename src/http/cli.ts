#!/usr/bin/env node
// `trpc-sync-server`: the standalone Electric-compatible sync service, configured like Electric.
//   DATABASE_URL (required, wal_level=logical), PORT (3000), HOST,
//   ELECTRIC_SECRET (or ELECTRIC_INSECURE=true), ELECTRIC_ENABLE_INTEGRATION_TESTING=true (shape DELETE),
//   ELECTRIC_LONG_POLL_TIMEOUT (ms), ELECTRIC_CACHE_MAX_AGE / ELECTRIC_CACHE_STALE_AGE (s),
//   ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD, ELECTRIC_REPLICATION_STREAM_ID (slot/publication suffix),
//   CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN=true (temporary slot).
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
      temporarySlot: env.CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN === 'true',
      liveTimeoutMs: number('ELECTRIC_LONG_POLL_TIMEOUT'),
      log,
    }),
    // Server errors are logged without request URLs (they carry the secret).
    onError: (error) => log(`error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`),
  })
  log(`serving ${redactUrl(databaseUrl)} at ${running.url}/v1/shape`)
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await running.close()
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((error: Error) => {
  console.error(`[trpc-sync] ${error.message}`)
  process.exit(1)
})
