// A page for the browser test of useLiveShape: one component under StrictMode (development build, so
// effects run twice), driven from the test through `window.harness`.
import { StrictMode, useState } from 'react'
import { createRoot, type Root } from 'react-dom/client'
import { createSyncClient, type SyncClient } from '../../client/index.js'
import { useLiveShape, type UseLiveShapeResult } from '../../client/react/index.js'
import type { AppRouter } from '../trpc/app.js'

type Input = { where?: { completed?: boolean } }
type Todo = UseLiveShapeResult<{ id: string; title: string; completed: boolean }>

const url = new URLSearchParams(location.search).get('ws')!
let trpc: SyncClient<AppRouter>
let root: Root | undefined
let setInput: (input: Input) => void = () => {}
let last: Todo | undefined
let rowsArrays = 0

function Probe({ initialInput }: { initialInput: Input }) {
  const [input, set] = useState(initialInput)
  setInput = set
  const result = useLiveShape(trpc.todos.sync, input)
  if (result.rows !== last?.rows) rowsArrays++
  last = result
  return <ul>{result.rows.map((row) => <li key={row.id}>{row.title}</li>)}</ul>
}

Object.assign(window, {
  harness: {
    mount(userId: string | null, input: Input) {
      trpc = createSyncClient<AppRouter>({ url, connectionParams: userId === null ? undefined : { userId } })
      root = createRoot(document.getElementById('root')!)
      root.render(<StrictMode><Probe initialInput={input} /></StrictMode>)
    },
    setInput: (input: Input) => setInput(input),
    unmount: () => root?.unmount(),
    state: () => ({
      titles: last?.rows.map((row) => row.title).sort() ?? [],
      isReady: last?.isReady,
      error: last?.error ? String((last.error as Error).message) : undefined,
      rowsArrays,
    }),
    async insertAndAwait(userId: string, title: string, completed: boolean) {
      const { txid } = await trpc.todos.mutate.mutate([{ type: 'insert', modified: { id: crypto.randomUUID(), title, completed, ownerId: userId }, syncMetadata: { relation: 'todos' } }])
      await last!.awaitTxId(txid, { timeout: 5000 })
      return txid
    },
  },
})
