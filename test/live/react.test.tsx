// Rows rendered with React (react-dom/server) in a live view: keyed root elements in the page and in
// the pushed fragments alike.
import { renderToString } from 'react-dom/server'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { NodePage, startLiveApp, until, type LiveApp } from './support.js'

let app: LiveApp
beforeAll(async () => {
  app = await startLiveApp()
})
afterAll(async () => {
  await app?.close()
})

function TodoItem({ todo }: { todo: { title: string; completed: boolean } }) {
  return <li className={todo.completed ? 'done' : undefined}>{todo.title} {todo.completed ? '✓' : null}</li>
}

it('renders rows with react-dom/server and pushes React-rendered fragments', async () => {
  await app.db.sql(`INSERT INTO todos (id, title, owner_id) VALUES (gen_random_uuid(), '<b>first</b>', 'u-react')`)
  const view = app.sync.view(app.sync.shape(app.db.prisma.todo, { where: { ownerId: 'u-react' } }), {
    render: (todo) => renderToString(<TodoItem todo={todo} />),
  })
  const rendered = await view.html()
  expect(rendered.rowsHtml).toMatch(/^<li data-key="[^"]+">&lt;b&gt;first&lt;\/b&gt;(<!-- -->)? <\/li>$/)
  const page = new NodePage(rendered, `ws://127.0.0.1:${app.port}/live`)
  await page.connect()
  await app.db.sql(`UPDATE todos SET is_completed = true WHERE owner_id = 'u-react'`)
  await until(() => page.ops().includes('update'), 'update fragment')
  expect(page.messages.find((m) => m.op === 'update')).toMatchObject({ html: expect.stringMatching(/^<li data-key="[^"]+" class="done">&lt;b&gt;first&lt;\/b&gt;(<!-- -->)? (<!-- -->)?✓<\/li>$/) })
  await page.disconnect()
})
