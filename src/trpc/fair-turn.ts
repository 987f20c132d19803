// Subscriptions share the event loop in slices. A subscription delivering a large snapshot yields many
// events back to back without any I/O in between (each one a promise job), so one client reading its
// rows could hold the loop for hundreds of milliseconds, and every other client's changes (which
// arrive as I/O: the replication stream) wait behind it. Every subscription asks for its turn before
// each event: within one turn of the event loop, events flow until `sliceMs` of work is done; then
// whoever asks waits for the next turn, after the loop has polled I/O. Waiters resume in order, each
// with one event at least, and the first of them in each turn (who gets the slice) changes each turn.
const sliceMs = 10

let sliceStart = performance.now()
let turnScheduled = false
const waiting: (() => void)[] = []

/** Resolves at once while this turn's slice lasts, else at the next turn (FIFO). */
export function shareTurn(): Promise<void> | undefined {
  if (!turnScheduled) {
    // The first call since the last turn opens a new slice, now.
    turnScheduled = true
    sliceStart = performance.now()
    setImmediate(nextTurn)
  }
  if (performance.now() - sliceStart < sliceMs) return undefined
  return new Promise<void>((resolve) => waiting.push(resolve))
}

function nextTurn(): void {
  turnScheduled = false
  const resumed = waiting.splice(0)
  if (resumed.length === 0) return
  // Each waiter gets at least one event a turn; the whole slice goes to each in turn (round robin).
  resumed.push(resumed.shift()!)
  turnScheduled = true
  sliceStart = performance.now()
  setImmediate(nextTurn)
  for (const resume of resumed) resume()
}
