// Live views in headless Chromium: a page rendered by a node:http server stays equal to the database
// (content and order) through SQL writes, a write made between render and connect, a dropped
// connection and a TRUNCATE.
import { mkdir } from 'node:fs/promises'
import type { Duplex } from 'node:stream'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../support/browser.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { html } from '../../src/index.js'
import { startLiveApp, until, type LiveApp } from './support.js'

const owner = 'u-browser'
const where = { ownerId: owner }
const orderBy = [{ createdAt: 'desc' as const }, { id: 'asc' as const }]

let app: LiveApp
let browser: Browser
let base: string
/** While set, requests for the runtime script wait for it (holding the page between render and connect). */
let scriptGate: Promise<void> | undefined
let scriptRequested: () => void = () => {}
const upgrades = new Set<Duplex>()

beforeAll(async () => {
  app = await startLiveApp()
  base = `http://127.0.0.1:${app.port}`
  const view = () => app.sync.view(app.sync.shape(app.db.prisma.todo, { where }), {
    render: (todo) => html`<li class="${todo.completed ? 'done' : ''}" data-id="${todo.id}"><input type="checkbox" ${todo.completed ? html`checked` : ''} disabled> <span>${todo.title}</span></li>`,
    order: (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id),
    container: { attributes: { class: 'todos' } },
  })
  app.route(async (req, res) => {
    if (req.url === app.endpoint.runtimePath && scriptGate) {
      scriptRequested()
      await scriptGate
    }
    if (app.endpoint.handleRequest(req, res)) return
    if (req.url !== '/') return void res.writeHead(404).end()
    const rendered = await view().html() // per request: the shape could depend on the user
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<html><head><meta charset="utf-8"><title>Live todos</title>
<style>
  body { font: 16px system-ui, sans-serif; margin: 2rem; }
  .todos { list-style: none; padding: 0; width: 24rem; }
  .todos li { padding: .4rem .6rem; border-bottom: 1px solid #ddd; }
  .todos li.done span { text-decoration: line-through; color: #888; }
  .todos[data-live-status="live"] { border-left: 4px solid #2a2; }
</style></head>
<body><h1>Todos of ${owner}</h1>${rendered.html}${app.endpoint.script}</body></html>`)
  })
  app.http.on('upgrade', (_req, socket: Duplex) => {
    upgrades.add(socket)
    socket.once('close', () => upgrades.delete(socket))
  })
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
  await app?.close()
})

const insert = (title: string, createdAt = 'now()') =>
  app.db.sql(`INSERT INTO todos (id, title, owner_id, created_at) VALUES (gen_random_uuid(), $1, $2, ${createdAt})`, [title, owner])

/** The page's list as [id, title, completed], in page order. */
const listed = (page: Page) => page.$$eval('ul.todos > li', (items) => items.map((li) => [li.getAttribute('data-id'), li.querySelector('span')!.textContent, li.classList.contains('done')]))

async function expected(): Promise<unknown[]> {
  return (await app.db.prisma.todo.findMany({ where, orderBy })).map((t) => [t.id, t.title, t.completed])
}

async function equalsDatabase(page: Page): Promise<void> {
  await until(async () => JSON.stringify(await listed(page)) === JSON.stringify(await expected()), 'the page to equal findMany')
  expect(await listed(page)).toEqual(await expected())
}

async function openLive(): Promise<Page> {
  const page = await browser.newPage()
  page.on('pageerror', (error) => console.error('page error:', error))
  await page.goto(`${base}/`)
  await page.waitForSelector('ul.todos[data-live-status="live"]', { timeout: 5000 })
  return page
}

describe('live view in Chromium', () => {
  it('shows SQL changes within a second, in the database\'s order, on every open page', async () => {
    await insert('oldest', `'2024-01-01'`)
    await insert('middle', `'2024-01-02'`)
    const [a, b] = [await openLive(), await openLive()]
    await equalsDatabase(a)

    const started = Date.now()
    await insert('newest')
    await a.waitForSelector('li >> text=newest', { timeout: 1000 })
    await b.waitForSelector('li >> text=newest', { timeout: 1000 })
    expect(Date.now() - started).toBeLessThan(1000)
    expect((await listed(a))[0]![1]).toBe('newest')

    await app.db.sql(`UPDATE todos SET is_completed = true, title = 'middle (done)' WHERE title = 'middle'`)
    await a.waitForSelector('li.done >> text=middle (done)', { timeout: 1000 })
    await app.db.sql(`UPDATE todos SET created_at = '2023-01-01' WHERE title = 'newest'`) // moves to the end
    await app.db.sql(`DELETE FROM todos WHERE title = 'oldest'`)
    await equalsDatabase(a)
    await equalsDatabase(b)
    await b.close()
    await a.close()
  })

  it('loses no change made between render and WebSocket connect', async () => {
    await insert('deleted after render', `'2024-06-01'`)
    let release!: () => void
    scriptGate = new Promise((resolve) => (release = resolve))
    const requested = new Promise<void>((resolve) => (scriptRequested = resolve))
    const page = await browser.newPage()
    const loading = page.goto(`${base}/`)
    await requested // the HTML is rendered and sent; the runtime has not run
    await insert('written after render')
    await app.db.sql(`DELETE FROM todos WHERE title = 'deleted after render'`)
    await new Promise((r) => setTimeout(r, 300))
    const titles = (await listed(page)).map((row) => row[1])
    expect(titles).toContain('deleted after render')
    expect(titles).not.toContain('written after render')
    expect(await page.$eval('ul.todos', (list) => list.getAttribute('data-live-status'))).toBe(null)
    scriptGate = undefined
    release()
    await loading
    await page.waitForSelector('ul.todos[data-live-status="live"]', { timeout: 5000 })
    await page.waitForSelector('li >> text=written after render', { timeout: 1000 })
    await equalsDatabase(page)
    await page.close()
  })

  it('reconnects after the connection drops and catches up', async () => {
    const page = await openLive()
    for (const socket of upgrades) socket.destroy()
    await page.waitForSelector('ul.todos[data-live-status="reconnecting"]', { timeout: 1000 })
    await insert('written while disconnected')
    await page.waitForSelector('ul.todos[data-live-status="live"]', { timeout: 5000 })
    await equalsDatabase(page)
    await page.close()
  })

  it('resets and refills the list after a TRUNCATE, and stays equal to the database', async () => {
    const page = await openLive()
    await app.db.sql('TRUNCATE todos')
    await until(async () => (await listed(page)).length === 0, 'the list to empty')
    await insert('after truncate 1', `'2025-01-01'`)
    await insert('after truncate 2', `'2025-01-02'`)
    await insert('after truncate 3', `'2025-01-03'`)
    await app.db.sql(`UPDATE todos SET is_completed = true WHERE title = 'after truncate 2'`)
    await equalsDatabase(page)
    expect((await listed(page)).map((row) => row[1])).toEqual(['after truncate 3', 'after truncate 2', 'after truncate 1'])
    await mkdir(new URL('./__screenshots__/', import.meta.url), { recursive: true })
    await page.screenshot({ path: new URL('./__screenshots__/live-view.png', import.meta.url).pathname })
    await page.close()
  })
})
