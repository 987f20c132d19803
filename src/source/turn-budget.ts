// Whether the current run of synchronous work (one event-loop turn and the promise jobs it set off) has
// held the event loop too long, for loops that hand out many items in a row (a reader's catch-up after a
// large transaction, hundreds of subscriptions woken by one commit), and a fair way to wait.
// Invariants: a loop that runs `while (heldTooLong(group)) await nextTurn(group)` before each item lets
// sockets, timers and the replication stream run at least every TURN_MS (plus one item); and waiters
// resume round-robin across groups (a tRPC connection is one group), one per group per turn, so one
// connection's hundreds of readers cannot make another connection's reader wait behind all of them.
// How: the first check in a turn schedules a setImmediate marker; while it has not run, the loop has not
// reached its check phase, and the time since it was scheduled is how long this turn has held it.

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

const DEFAULT_GROUP = {}
/** Waiters by group, in the order groups began waiting (the round-robin order). */
const waiting = new Map<object, (() => void)[]>()
let releasing = false

/**
 * Resolves in a later turn, after pending I/O and timers, in round-robin order across groups. Callers
 * re-check `heldTooLong()` when it resolves: those resuming once the turn has run long wait again.
 */
export function nextTurn(group: object = DEFAULT_GROUP): Promise<void> {
  return new Promise((resolve) => {
    let queue = waiting.get(group)
    if (!queue) waiting.set(group, (queue = []))
    queue.push(resolve)
    if (!releasing) {
      releasing = true
      setImmediate(release)
    }
  })
}

/**
 * One waiter of each group; groups still waiting go to the back of the round, for the next turn. The
 * round starts a turn of its own: work that ran before it in this loop iteration (a routing slice) does
 * not count against it, or a waiter could be sent back forever while other work keeps the loop busy.
 */
function release(): void {
  markedAt = undefined
  const round = [...waiting]
  waiting.clear()
  for (const [group, queue] of round) {
    queue.shift()!() // its continuation runs after this function, so `waiting` is ours until then
    if (queue.length > 0) waiting.set(group, queue)
  }
  releasing = waiting.size > 0
  if (releasing) setImmediate(release)
}
