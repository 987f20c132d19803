// The demo in headless Chromium: two pages see each other's writes and SQL writes within a second, an
// optimistic write is confirmed by its txid, a write made offline (its reply lost on reconnecting) is
// confirmed once, other users' todos are read-only, TRUNCATE resets and refills every list, and the
// live server-rendered list keeps the database's order and content.
import { describe, expect, it } from 'vitest'
import type { Page, WebSocketRoute } from 'playwright-core'
import { demoInBrowser } from './support.js'

const app = demoInBrowser()

async function open(user: string): Promise<Page> {
  const page = await app.browser.newPage()
  await page.goto(`${app.demo.url}/?user=${user}`)
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'live')
  return page
}

/** Titles in the tRPC app's list and in the server-rendered list, in page order. */
const appTitles = (page: Page) => page.$$eval('#todos li .title', (els) => els.map((e) => e.textContent!.trim()))
const renderedTitles = (page: Page) => page.$$eval('[data-live-view] li .title', (els) => els.map((e) => e.textContent!.trim()))


/** Waits (at most `ms`) until both lists of the page show `titles`. */
async function expectLists(page: Page, titles: string[], ms = 1000): Promise<void> {
  await page.waitForFunction((expected) => {
    const read = (selector: string) => [...document.querySelectorAll(selector)].map((e) => e.textContent!.trim())
    return JSON.stringify(read('#todos li .title').sort()) === JSON.stringify([...expected].sort()) &&
      JSON.stringify(read('[data-live-view] li .title')) === JSON.stringify(expected)
  }, titles, { timeout: ms })
}

describe('demo in the browser', () => {
  it('shows writes from another page and from SQL within a second, confirmed by txid', async () => {
    const alice = await open('alice')
    const bob = await open('bob')
    expect(await renderedTitles(bob)).toEqual(await app.databaseTitles())

    await alice.fill('input[name=title]', 'written by alice')
    await alice.click('#add button')
    // Optimistic: the row is on alice's page at once, pending until its txid comes back.
    await alice.waitForFunction(() => [...document.querySelectorAll('#todos li')].some((li) => li.textContent!.includes('written by alice')), undefined, { timeout: 200 })
    await alice.waitForFunction(() => (window as unknown as { demo: { confirmed: number[] } }).demo.confirmed.length === 1)
    const [txid] = await alice.evaluate(() => (window as unknown as { demo: { confirmed: number[] } }).demo.confirmed)
    const [written] = await app.db.sql(`SELECT xmin::text AS xid, owner_id FROM todos WHERE title = 'written by alice'`)
    expect(Number(written.xid)).toBe(txid)
    expect(written.owner_id).toBe('alice')
    expect(await alice.$$eval('#todos li.pending', (els) => els.length)).toBe(0)
    await expectLists(bob, await app.databaseTitles())

    await app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'written with SQL', 'bob')`)
    const titles = await app.databaseTitles()
    await Promise.all([expectLists(alice, titles), expectLists(bob, titles)])

    // Alice's todo is read-only on bob's page: no delete button, the checkbox disabled.
    expect(await bob.$eval('#todos li:has-text("written by alice")', (li) => [li.className, (li.querySelector('input') as HTMLInputElement).disabled, li.querySelector('button.delete')]))
      .toEqual([expect.stringContaining('read-only'), true, null])
    // A toggle of his own todo from bob's page reaches alice's.
    await bob.click('#todos li:has-text("written with SQL") input[type=checkbox]')
    await alice.waitForFunction(() => [...document.querySelectorAll('[data-live-view] li.done .title')].some((e) => e.textContent!.includes('written with SQL')), undefined, { timeout: 1000 })
    await bob.waitForFunction(() => (window as unknown as { demo: { confirmed: number[] } }).demo.confirmed.length === 1)
    await alice.screenshot({ path: 'test/e2e/__screenshots__/demo.png', fullPage: true })
    await alice.close()
    await bob.close()
  })

  it('a write made offline is confirmed after reconnecting, never shown as rejected, and the row appears once', async () => {
    const context = await app.browser.newContext()
    const page = await context.newPage()
    // The page's WebSocket goes through here. "Offline", a new socket reaches nothing (its messages are
    // lost); back online, that socket closes and the next reaches the server, whose first write reply
    // is dropped with its socket (the server committed), as when a connection fails at the worst moment.
    let offline = false
    let dropReply = false
    const sockets: WebSocketRoute[] = []
    await page.routeWebSocket(/\/trpc/, (ws) => {
      sockets.push(ws)
      if (offline) return ws.onMessage(() => {})
      const server = ws.connectToServer()
      ws.onMessage((message) => server.send(message))
      server.onMessage((message) => {
        if (dropReply && String(message).includes('"txid"')) {
          dropReply = false
          void ws.close()
          void server.close()
          return
        }
        ws.send(message)
      })
    })
    await page.goto(`${app.demo.url}/?user=alice`)
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'live' && document.getElementById('connection')?.textContent === 'live')

    offline = true
    await context.setOffline(true)
    for (const ws of sockets.splice(0)) await ws.close()
    await page.waitForFunction(() => document.getElementById('connection')?.textContent === 'offline', undefined, { timeout: 5000 })
    expect(await page.textContent('#status')).toBe('offline') // not "live" while nothing can arrive
    await page.fill('input[name=title]', 'written offline')
    await page.click('#add button')
    await page.waitForFunction(() => [...document.querySelectorAll('#todos li.pending')].some((li) => li.textContent!.includes('written offline')), undefined, { timeout: 1000 })
    expect(await page.$$eval('#writes li.batch', (els) => els.map((e) => e.textContent))).toEqual(['insert “written offline”: pending'])

    dropReply = true
    offline = false
    await context.setOffline(false)
    for (const ws of sockets.splice(0)) await ws.close()
    await page.waitForFunction(() => (window as unknown as { demo: { confirmed: number[] } }).demo.confirmed.length === 1, undefined, { timeout: 30_000 })
    expect(dropReply).toBe(false)
    const [txid] = await page.evaluate(() => (window as unknown as { demo: { confirmed: number[] } }).demo.confirmed)
    const rows = await app.db.sql(`SELECT xmin::text AS xid FROM todos WHERE title = 'written offline'`)
    expect(rows.map((r) => Number(r.xid))).toEqual([txid])
    expect(await page.$$eval('#todos li', (els) => els.filter((e) => e.textContent!.includes('written offline')).map((e) => e.className))).toEqual(['todo'])
    expect(await page.$$eval('#writes li.batch', (els) => els.map((e) => e.textContent))).toEqual([`insert “written offline”: confirmed (txid ${txid})`])
    expect(await page.evaluate(() => (window as unknown as { demo: { rejected: string[] } }).demo.rejected)).toEqual([])
    expect(await page.textContent('#status')).toBe(`confirmed txid ${txid}`)
    expect(await page.textContent('#connection')).toBe('live')
    await context.close()
  })

  it('resets and refills every list after a TRUNCATE', async () => {
    const page = await open('alice')
    await app.db.sql('TRUNCATE todos')
    await app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'after truncate', 'alice')`)
    await expectLists(page, ['after truncate'], 5000)
    expect(await renderedTitles(page)).toEqual(await app.databaseTitles())
    expect((await appTitles(page)).sort()).toEqual((await app.databaseTitles()).sort())
    await page.close()
  })

  it('keeps the server-rendered list in the database order', async () => {
    const page = await open('bob')
    for (let i = 0; i < 5; i++) {
      await app.db.sql(`INSERT INTO todos (id, title, owner_id, created_at) VALUES (gen_random_uuid(), $1, 'bob', now() - make_interval(mins => $2))`, [`early ${i}`, 100 - i])
    }
    await app.db.sql(`UPDATE todos SET title = 'renamed' WHERE title = 'early 2'`)
    await app.db.sql(`DELETE FROM todos WHERE title = 'early 4'`)
    await expectLists(page, await app.databaseTitles())
    await page.close()
  })
})
