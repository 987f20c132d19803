// useLiveShape rendered by react-dom in headless Chromium against the real test app: one subscription
// through StrictMode's double effects, rows kept live, the same subscription for an equal input written
// anew, a new one for another input (the old one stopped), awaitTxId, the subscription stopped on
// unmount, and a refused subscription reported as `error`.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../support/browser.js'
import { startApp, type TestApp } from '../trpc/support.js'

let app: TestApp
let page: Server
let browser: Browser
let base: string
beforeAll(async () => {
  app = await startApp()
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./harness.tsx', import.meta.url))], bundle: true, write: false, format: 'esm',
    platform: 'browser', target: 'es2022', jsx: 'automatic', logLevel: 'silent', define: { 'process.env.NODE_ENV': '"development"' },
  })
  const script = bundle.outputFiles[0]!.text
  page = createServer((req, res) => {
    if (req.url === '/harness.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><div id="root"></div><script type="module" src="/harness.js"></script>')
  })
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(page.address() as AddressInfo).port}/?ws=${encodeURIComponent(`ws://127.0.0.1:${app.port}/trpc`)}`
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
  page?.closeAllConnections()
  await new Promise((resolve) => page?.close(resolve))
  await app?.close()
})

interface State { titles: string[]; isReady: boolean; error: string | undefined; rowsArrays: number }

/** Subscriptions the page started and stopped on the tRPC socket. */
function watchSubscriptions(tab: Page) {
  const counts = { started: 0, stopped: 0 }
  tab.on('websocket', (ws) => {
    ws.on('framesent', ({ payload }) => {
      if (typeof payload !== 'string' || !payload.startsWith('{') && !payload.startsWith('[')) return
      for (const m of [JSON.parse(payload)].flat()) {
        if (m.method === 'subscription') counts.started++
        if (m.method === 'subscription.stop') counts.stopped++
      }
    })
  })
  return counts
}

async function open(userId: string | null, input: object) {
  const tab = await browser.newPage()
  const subscriptions = watchSubscriptions(tab)
  await tab.goto(base)
  await tab.waitForFunction(() => 'harness' in window)
  await tab.evaluate(([u, i]) => (window as any).harness.mount(u, i), [userId, input] as const)
  const state = () => tab.evaluate(() => (window as any).harness.state() as State)
  const until = (check: (s: State) => boolean) => expect.poll(async () => check(await state()), { timeout: 5000 }).toBe(true)
  return { tab, subscriptions, state, until }
}

const titles = async (owner: string, completed?: boolean) =>
  (await app.db.prisma.todo.findMany({ where: { ownerId: owner, completed } })).map((t) => t.title).sort()

const settle = () => new Promise((r) => setTimeout(r, 200))

describe('useLiveShape in the browser', () => {
  it('subscribes once, stays live, resubscribes only for another input, and stops on unmount', async () => {
    await app.db.sql(`INSERT INTO todos (id, title, owner_id, is_completed) VALUES (gen_random_uuid(), 'open 1', 'u-hook', false), (gen_random_uuid(), 'open 2', 'u-hook', false), (gen_random_uuid(), 'done 1', 'u-hook', true)`)
    const { tab, subscriptions, state, until } = await open('u-hook', {})
    await until((s) => s.isReady && s.titles.length === 3)
    await settle()
    expect(subscriptions).toEqual({ started: 1, stopped: 0 }) // StrictMode ran the effect twice

    await app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'from SQL', 'u-hook')`)
    const all = await titles('u-hook')
    await until((s) => JSON.stringify(s.titles) === JSON.stringify(all))

    // The same input written anew: same subscription, same rows array.
    const before = (await state()).rowsArrays
    await tab.evaluate(() => (window as any).harness.setInput({}))
    await settle()
    expect(subscriptions).toEqual({ started: 1, stopped: 0 })
    expect((await state()).rowsArrays).toBe(before)

    // Another input: the old subscription stops, a new one serves the new shape.
    await tab.evaluate(() => (window as any).harness.setInput({ where: { completed: true } }))
    const done = await titles('u-hook', true)
    await until((s) => s.isReady && JSON.stringify(s.titles) === JSON.stringify(done))
    await settle()
    expect(subscriptions).toEqual({ started: 2, stopped: 1 })

    const txid = await tab.evaluate(() => (window as any).harness.insertAndAwait('u-hook', 'done 2', true))
    const [row] = await app.db.sql(`SELECT xmin::text AS xid FROM todos WHERE title = 'done 2'`)
    expect(Number(row.xid)).toBe(txid)
    await until((s) => s.titles.includes('done 2'))

    await tab.evaluate(() => (window as any).harness.unmount())
    await expect.poll(() => subscriptions.stopped).toBe(2)
    await tab.close()
  })

  it('reports a refused subscription as error', async () => {
    const { tab, until, state } = await open(null, {})
    await until((s) => s.error !== undefined)
    expect(await state()).toMatchObject({ error: 'log in to sync todos', isReady: false, titles: [] })
    await tab.close()
  })
})
