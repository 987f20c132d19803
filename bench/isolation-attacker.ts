// The attacker of the isolation benchmark, in a process of its own (as it would be another machine), so
// that reading its own events does not delay the victim's measurement in the parent. Over IPC:
//   { type: 'open', port, shapes }      → opens `shapes` todos.search subscriptions on one connection → { ready }
//   { type: 'attack', databaseUrl, rows, everyMs } → inserts a `rows`-row batch every `everyMs`, each row
//                                          matching one of its shapes
//   { type: 'stop' }                    → stops, waits until every row inserted reached it → { batches, received }
import pg from 'pg'
import { Client } from './isolation-client.js'
import { sleep } from './support.js'

type Message =
  | { type: 'open'; port: number; shapes: number }
  | { type: 'attack'; databaseUrl: string; rows: number; everyMs: number }
  | { type: 'stop' }

let client: Client | undefined
let shapes = 0
let received = 0
let batches = 0
let attacking = false
let attack: Promise<void> | undefined
let pool: pg.Pool | undefined
let batchRows = 0

process.on('message', async (message: Message) => {
  if (message.type === 'open') {
    shapes = message.shapes
    client = new Client(message.port, 'attacker')
    await client.subscribe('todos.search', Array.from({ length: shapes }, (_, i) => ({ term: `<term${i}>` })))
    client.onEvent = (_id, event) => { if (event.type === 'insert') received++ }
    process.send!({ ready: true })
  } else if (message.type === 'attack') {
    pool = new pg.Pool({ connectionString: message.databaseUrl, max: 1 })
    attacking = true
    const { rows, everyMs } = message
    batchRows = rows
    attack = (async () => {
      while (attacking) {
        const started = performance.now()
        await pool!.query(
          `INSERT INTO todos (id, title, owner_id) SELECT gen_random_uuid(), 'spam ' || i || ' <term' || (i % $2) || '>', 'attacker' FROM generate_series(1, $1) i`,
          [rows, shapes])
        batches++
        await sleep(Math.max(0, started + everyMs - performance.now()))
      }
    })()
  } else if (message.type === 'stop') {
    attacking = false
    await attack
    await pool?.end()
    // Every attacker row reached its shape: the attack was routed in full, not dropped.
    const expected = batches * batchRows
    const deadline = Date.now() + 120_000
    while (received < expected && Date.now() < deadline) await sleep(10)
    client?.close()
    process.send!({ batches, received })
    process.exit(0)
  }
})

