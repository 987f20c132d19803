// The demo app on a test database, and a headless Chromium to open it: for the e2e files.
import { afterAll, beforeAll } from 'vitest'
import type { Browser } from 'playwright-core'
import { startDemo, type DemoServer } from '../../demo/server.js'
import { launchChromium } from '../support/browser.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'

export interface DemoInBrowser {
  db: TestDatabase
  demo: DemoServer
  browser: Browser
  /** Todo titles in the order both lists show them. */
  databaseTitles(): Promise<string[]>
}

/** Starts the demo and Chromium before the file's tests and stops them after. */
export function demoInBrowser(): DemoInBrowser {
  const app = {
    async databaseTitles() {
      const rows = await app.db.prisma.todo.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })
      return rows.map((r) => r.title)
    },
  } as DemoInBrowser
  beforeAll(async () => {
    app.db = await createTestDatabase()
    app.demo = await startDemo({ port: 0, databaseUrl: app.db.url, log: () => {} })
    app.browser = await launchChromium()
  })
  afterAll(async () => {
    await app.browser?.close()
    await app.demo?.close()
    await app.db?.drop()
  })
  return app
}
