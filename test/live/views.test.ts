// Live views end to end in Node: a real Postgres, the embedded engine, the views' endpoint on an HTTP
// server, and pages as real WebSocket clients applying the fragments to a keyed list.
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { html, type LiveView } from '../../src/index.js'
import { NodePage, startLiveApp, until, type LiveApp } from './support.js'

let app: LiveApp
let url: string
beforeAll(async () => {
  app = await startLiveApp()
  url = `ws://127.0.0.1:${app.port}/live`
})
afterAll(async () => {
  await app?.close()
})

type Todo = { id: string; title: string; completed: boolean; ownerId: string; createdAt: Date }
const byCreated = (a: Todo, b: Todo) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id)
const orderBy = [{ createdAt: 'asc' as const }, { id: 'asc' as const }]

/** A view of one owner's open todos, in creation order. */
function openTodos(ownerId: string): LiveView<Todo> {
  const where = { ownerId, completed: false }
  return app.sync.view(app.sync.shape(app.db.prisma.todo, { where }), {
    render: (todo) => html`<li>${todo.title}</li>`,
    order: byCreated,
  })
}

async function expected(ownerId: string): Promise<string[]> {
  const rows = await app.db.prisma.todo.findMany({ where: { ownerId, completed: false }, orderBy })
  return rows.map((t) => t.title)
}

/** Waits until the page shows what findMany returns, then checks it once more. */
async function converged(page: NodePage, ownerId: string): Promise<void> {
  await until(async () => JSON.stringify(page.texts()) === JSON.stringify(await expected(ownerId)), `page to equal findMany for ${ownerId}`)
  expect(page.texts()).toEqual(await expected(ownerId))
}

const insertTodo = (ownerId: string, title: string, createdAt = 'now()') =>
  app.db.sql(`INSERT INTO todos (id, title, owner_id, created_at) VALUES (gen_random_uuid(), $1, $2, ${createdAt})`, [title, ownerId])

describe('live views', () => {
  it('renders the shape as a keyed list at a log position', async () => {
    await insertTodo('u-render', 'b <two>', `'2024-01-02'`)
    await insertTodo('u-render', 'a one', `'2024-01-01'`)
    await app.db.sql(`INSERT INTO todos (id, title, owner_id, is_completed) VALUES (gen_random_uuid(), 'done', 'u-render', true)`)
    const rendered = await openTodos('u-render').html()
    expect(rendered.rows.map((r) => r.title)).toEqual(['a one', 'b <two>'])
    expect(rendered.html).toMatch(new RegExp(`^<ul data-live-view="${rendered.id}" data-live-state="[^"]+:[^"]+"><li data-key="&quot;public&quot;.&quot;todos&quot;/&quot;[0-9a-f-]+&quot;">a one</li><li data-key="[^"]+">b &lt;two&gt;</li></ul>$`))
    expect(rendered.attributes).toEqual({ 'data-live-view': rendered.id, 'data-live-state': rendered.state })
    expect(rendered.id).toMatch(/^[\w-]{24}$/)
  })

  it('pushes inserts, updates and deletes as rendered fragments in the view\'s order', async () => {
    await insertTodo('u-crud', 'second', `'2024-01-02'`)
    const page = new NodePage(await openTodos('u-crud').html(), url)
    await page.connect()
    await until(() => page.ops().includes('up-to-date'), 'up-to-date')

    await insertTodo('u-crud', 'first', `'2024-01-01'`)
    await insertTodo('u-crud', 'third', `'2024-01-03'`)
    await converged(page, 'u-crud')
    const first = page.messages.find((m) => m.op === 'insert' && m.html.includes('first'))
    expect(first).toMatchObject({ op: 'insert', before: page.keys[1] }) // inserted before "second"

    await app.db.sql(`UPDATE todos SET title = 'second!', created_at = '2024-01-04' WHERE title = 'second'`)
    await converged(page, 'u-crud')
    expect(page.messages.findLast((m) => m.op === 'update')).toMatchObject({ before: null }) // moved last
    await app.db.sql(`DELETE FROM todos WHERE title = 'first'`)
    await converged(page, 'u-crud')
    expect(page.ops().filter((op) => op === 'reset')).toEqual([])
    await page.disconnect()
  })

  it('turns rows moving into and out of the where clause into inserts and deletes', async () => {
    await insertTodo('u-move', 'stays')
    await insertTodo('u-move', 'moves')
    const page = new NodePage(await openTodos('u-move').html(), url)
    await page.connect()
    await app.db.sql(`UPDATE todos SET is_completed = true WHERE title = 'moves' AND owner_id = 'u-move'`)
    await until(() => page.ops().includes('delete'), 'delete on moving out')
    await converged(page, 'u-move')
    await app.db.sql(`UPDATE todos SET is_completed = false WHERE title = 'moves' AND owner_id = 'u-move'`)
    await until(() => page.ops().includes('insert'), 'insert on moving in')
    await converged(page, 'u-move')
    await app.db.sql(`UPDATE todos SET owner_id = 'someone else' WHERE title = 'stays' AND owner_id = 'u-move'`)
    await converged(page, 'u-move')
    expect(page.texts()).toEqual(['moves'])
    await page.disconnect()
  })

  it('loses no change made between render and connect, and applies none twice', async () => {
    await insertTodo('u-gap', 'before render')
    const rendered = await openTodos('u-gap').html()
    await insertTodo('u-gap', 'after render')
    await app.db.sql(`UPDATE todos SET title = 'renamed' WHERE title = 'before render' AND owner_id = 'u-gap'`)
    await new Promise((r) => setTimeout(r, 300)) // the engine has these in its log before the page connects
    const page = new NodePage(rendered, url)
    await page.connect()
    await converged(page, 'u-gap')
    await until(() => page.ops().includes('up-to-date'), 'up-to-date')
    expect(page.ops().filter((op) => op !== 'up-to-date')).toEqual(['insert', 'update'])
    await page.disconnect()
  })

  it('resumes after a reconnect from the position it applied, with nothing lost or repeated', async () => {
    const page = new NodePage(await openTodos('u-resume').html(), url)
    await page.connect()
    await insertTodo('u-resume', 'while connected')
    await converged(page, 'u-resume')
    await page.disconnect()
    const seen = page.messages.length

    await insertTodo('u-resume', 'while away 1')
    await insertTodo('u-resume', 'while away 2')
    await app.db.sql(`DELETE FROM todos WHERE title = 'while connected'`)
    await page.connect()
    await converged(page, 'u-resume')
    await until(() => page.messages.slice(seen).some((m) => m.op === 'up-to-date'), 'up-to-date')
    // The engine may still be reading the last of these commits when the page comes back, so an
    // up-to-date can fall between them; what matters is each change once, in commit order.
    const changes = page.messages.slice(seen).map((m) => m.op).filter((op) => op !== 'up-to-date')
    expect(changes).toEqual(['insert', 'insert', 'delete'])
    await page.disconnect()
  })

  it('resets a page that comes back from another position than the server\'s', async () => {
    const rendered = await openTodos('u-stale').html()
    const page = new NodePage(rendered, url)
    await page.connect()
    await insertTodo('u-stale', 'one')
    await converged(page, 'u-stale')
    await page.disconnect()

    // A page that missed the fragments (e.g. lost in flight) still says it is at the render position.
    const stale = new NodePage(rendered, url)
    await stale.connect()
    await until(() => stale.ops().includes('reset'), 'reset')
    expect(stale.ops()).toEqual(['reset'])
    await converged(stale, 'u-stale')
    await stale.disconnect()
  })

  it('resets and refills the list after a TRUNCATE (must-refetch)', async () => {
    await insertTodo('u-trunc', 'old 1')
    await insertTodo('u-trunc', 'old 2')
    const page = new NodePage(await openTodos('u-trunc').html(), url)
    await page.connect()
    await until(() => page.ops().includes('up-to-date'), 'up-to-date')
    await app.db.sql(`TRUNCATE todos`)
    await insertTodo('u-trunc', 'new 1')
    await until(() => page.ops().includes('reset'), 'reset after truncate')
    await converged(page, 'u-trunc')
    await insertTodo('u-trunc', 'new 2')
    await converged(page, 'u-trunc')
    expect(page.texts()).toEqual(['new 1', 'new 2'])
    await page.disconnect()
  })

  it('resets a page whose shape was truncated between render and connect', async () => {
    await insertTodo('u-gap-trunc', 'gone')
    const rendered = await openTodos('u-gap-trunc').html()
    await app.db.sql(`TRUNCATE todos`)
    await insertTodo('u-gap-trunc', 'fresh')
    await new Promise((r) => setTimeout(r, 200))
    const page = new NodePage(rendered, url)
    expect(page.texts()).toEqual(['gone'])
    await page.connect()
    await until(() => page.ops().includes('reset'), 'reset')
    await converged(page, 'u-gap-trunc')
    expect(page.texts()).toEqual(['fresh'])
    await page.disconnect()
  })

  it('gives a second page showing the same render a session of its own', async () => {
    const rendered = await openTodos('u-fork').html()
    const a = new NodePage(rendered, url)
    const b = new NodePage(rendered, url)
    await a.connect()
    await until(() => a.ops().includes('up-to-date'), 'a live')
    await b.connect()
    await until(() => b.ops().includes('up-to-date'), 'b live')
    expect(b.messages[0]).toMatchObject({ op: 'session' })
    expect(b.view).not.toBe(a.view)
    await insertTodo('u-fork', 'both see it')
    await converged(a, 'u-fork')
    await converged(b, 'u-fork')
    await Promise.all([a.disconnect(), b.disconnect()])
  })

  it('tells a page whose view the server does not know to render again', async () => {
    const page = new NodePage({ id: 'no-such-view', state: 'x:0_0', rowsHtml: '' }, url)
    await page.connect()
    expect(await page.closed()).toBe(1000)
    expect(page.ops()).toEqual(['expired'])
  })

  it('forgets a rendered view that is not connected within its ttl', async () => {
    const view = app.sync.view(app.sync.shape(app.db.prisma.todo, { where: { ownerId: 'u-ttl' } }), {
      render: (todo) => html`<li>${todo.title}</li>`,
      sessionTtlMs: 50,
    })
    const page = new NodePage(await view.html(), url)
    await new Promise((r) => setTimeout(r, 100))
    await page.connect()
    expect(await page.closed()).toBe(1000)
    expect(page.ops()).toEqual(['expired'])
  })

  it('shares the HTTP server with other WebSocket handlers and serves its runtime script', async () => {
    const other = new WebSocketServer({ noServer: true })
    other.on('connection', (socket) => socket.send('other'))
    const onUpgrade = (req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
      if (req.url === '/trpc') other.handleUpgrade(req, socket, head, (ws) => other.emit('connection', ws, req))
    }
    app.http.on('upgrade', onUpgrade)
    const client = new WebSocket(`ws://127.0.0.1:${app.port}/trpc`)
    expect(String(await new Promise((resolve) => client.once('message', resolve)))).toBe('other')
    client.close()
    app.http.off('upgrade', onUpgrade)
    other.close()

    app.route((req, res) => {
      if (!app.endpoint.handleRequest(req, res)) res.writeHead(404).end()
    })
    const get = (headers: Record<string, string> = {}) => new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      request({ port: app.port, host: '127.0.0.1', path: '/live/runtime.js', headers }, (res) => {
        let body = ''
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      }).on('error', reject).end()
    })
    const first = await get()
    expect(first.status).toBe(200)
    expect(first.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(first.body).toMatch(/function startLiveViews[\s\S]*export {/)
    expect(first.body).not.toMatch(/: LiveViewStatus|interface /) // types stripped
    expect(first.body.trimEnd().endsWith('startLiveViews({ url: "/live" })')).toBe(true)
    expect(app.endpoint.script).toBe('<script type="module" src="/live/runtime.js"></script>')
    expect((await get({ 'if-none-match': String(first.headers.etag) })).status).toBe(304)
  })
})
