// The demo in headless Chromium: two pages see each other's writes and SQL writes within a second, an
// optimistic write is confirmed by its txid, TRUNCATE resets and refills every list, and the live
// server-rendered list keeps the database's order and content.
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
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
