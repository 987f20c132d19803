// The endpoint suite (suite.ts) on the embedded engine: sync.handler mounted on a real node:http server.
import { afterAll, beforeAll } from 'vitest'
import type { Sync } from '../../src/sync/sync.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { appRoutes, handlerSuite, streamSuite } from './suite.js'
import { mount, testSync, type Mounted } from './support.js'

let db: TestDatabase
let sync: Sync
let app: Mounted

beforeAll(async () => {
  db = await createTestDatabase()
  db.pool.on('error', () => {}) // connections ended by drop() may still hear its pg_terminate_backend
  sync = testSync(db, { chunkBytes: 2000 })
  app = await mount(appRoutes(sync, db, { liveTimeoutMs: 2000, sseTimeoutMs: 3000 }))
})

afterAll(async () => {
  await app?.close()
  await sync?.close()
  await db?.drop()
})

const context = () => ({ db, sync, url: app.url, sseCacheControl: 'public, max-age=2' })
handlerSuite(context)
streamSuite(context)
