// The demo's React app through SSR → hydrate → live in headless Chromium: the HTML already holds the
// user's rows before any script runs, hydration reuses the server's DOM (no mismatch), the subscription
// resumes from the embedded snapshot (the WebSocket carries no snapshot row, only later changes), and a
// change made between the render and the hydration still arrives.
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { demoInBrowser } from './support.js'

const app = demoInBrowser()


const appTitles = (page: Page) => page.$$eval('#todos li .title', (els) => els.map((e) => e.textContent!.trim()))

interface TrpcFrames {
  /** Subscription inputs the page sent. */
  subscribed: unknown[]
  /** The kind of each tracked event received (the id's first letter: r snapshot row, c change, u up-to-date, s snapshot end, m must-refetch). */
  kinds: string[]
}

/** Records the tRPC WebSocket's traffic (not the live view's socket). */
function watchTrpc(page: Page): TrpcFrames {
  const frames: TrpcFrames = { subscribed: [], kinds: [] }
  const messages = (payload: string | Buffer): any[] => {
    if (typeof payload !== 'string' || !payload.startsWith('{') && !payload.startsWith('[')) return []
    const parsed = JSON.parse(payload)
    return Array.isArray(parsed) ? parsed : [parsed]
  }
  page.on('websocket', (ws) => {
    if (new URL(ws.url()).pathname !== '/trpc') return
    ws.on('framesent', ({ payload }) => {
      for (const m of messages(payload)) if (m.method === 'subscription') frames.subscribed.push(m.params.input)
    })
    ws.on('framereceived', ({ payload }) => {
      for (const m of messages(payload)) if (m.result?.type === 'data') frames.kinds.push(String(m.result.id).slice(0, 1))
    })
  })
  return frames
}

describe('SSR, hydration and live', () => {
  it('paints the rows before any script runs', async () => {
    const context = await app.browser.newContext({ javaScriptEnabled: false })
    const page = await context.newPage()
    await page.goto(`${app.demo.url}/?user=alice`)
    expect(await appTitles(page)).toEqual(await app.databaseTitles())
    expect(await page.$$eval('#todos li.done .title', (els) => els.map((e) => e.textContent))).toEqual(['Read the README'])
    expect(await page.textContent('#status')).toBe('connecting…')
    await context.close()
  })

  it('hydrates the server\'s DOM and resumes without refetching, keeping a change made before hydration', async () => {
    const page = await app.browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()) })
    const frames = watchTrpc(page)
    // Hold the app's script: the page is rendered but not hydrated.
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    await page.route('**/app.js', async (route) => {
      await held
      await route.continue()
    })
    await page.goto(`${app.demo.url}/?user=bob`, { waitUntil: 'commit' })
    await page.waitForSelector('#todos li .title')
    const rendered = await appTitles(page)
    expect(rendered).toEqual(await app.databaseTitles())
    await page.evaluate(() => { (window as any).serverNodes = [...document.querySelectorAll('#todos li')] })

    await app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'between render and hydration', 'carol')`)
    await app.db.sql(`UPDATE todos SET is_completed = true WHERE title = 'Try the demo in two windows'`)
    release()
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'live')
    await page.waitForFunction(() => [...document.querySelectorAll('#todos li .title')].some((e) => e.textContent === 'between render and hydration'), undefined, { timeout: 2000 })
    await page.waitForSelector('#todos li.done:has-text("Try the demo in two windows")', { timeout: 2000 })
    expect(await appTitles(page)).toEqual(await app.databaseTitles())

    // Hydration kept every server-rendered element, and React recovered from nothing.
    expect(await page.evaluate(() => (window as any).serverNodes.every((li: Element) => li.isConnected))).toBe(true)
    expect(await page.evaluate(() => (window as any).demo.recoverableErrors)).toEqual([])
    expect(errors).toEqual([])

    // One subscription, from the snapshot's position; it sent the two changes and no row of the snapshot.
    expect(frames.subscribed).toEqual([{ json: { lastEventId: expect.stringMatching(/^u:/) } }])
    expect(frames.kinds.filter((k) => k === 'c')).toHaveLength(2)
    expect(frames.kinds.filter((k) => k !== 'c' && k !== 'u')).toEqual([])

    // And it stays live.
    await app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), 'after hydration', 'carol')`)
    await page.waitForFunction(() => [...document.querySelectorAll('#todos li .title')].some((e) => e.textContent === 'after hydration'), undefined, { timeout: 1000 })
    expect(frames.kinds.filter((k) => k === 'c')).toHaveLength(3)
    expect(frames.kinds.filter((k) => k !== 'c' && k !== 'u')).toEqual([])
    await page.close()
  })
})
