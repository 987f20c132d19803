// Whether the current run of synchronous work (one event-loop turn and the promise jobs it set off) has
// held the event loop too long, for loops that hand out many items in a row (a reader's catch-up after a
// large transaction, hundreds of subscriptions woken by one commit). Invariant: a loop that awaits
// `nextTurn()` whenever `heldTooLong()` is true lets sockets, timers and the replication stream run at
// least every `TURN_MS` (plus one item). How: the first call in a turn schedules a setImmediate marker;
// while the marker has not run, the loop has not reached its check phase, and the time since it was
// scheduled is how long this turn has been holding it. Shared by every caller, so many small loops that
// each take little (one per subscription) still add up to one bound.

/** How long one turn may run before loops that check give way. */
export const TURN_MS = 5

let markedAt: number | undefined

const clear = () => { markedAt = undefined }

export function heldTooLong(): boolean {
  const now = performance.now()
  if (markedAt === undefined) {
    markedAt = now
    setImmediate(clear)
    return false
  }
  return now - markedAt >= TURN_MS
}

/**
 * Resolves in a later check phase, after pending I/O and timers. Callers re-check `heldTooLong()` when it
 * resolves (`while (heldTooLong()) await nextTurn()`): every waiter resumes in the same check phase, and
 * those resuming once that phase has run long must wait again rather than all run at once.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
