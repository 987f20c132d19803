// turn-budget.ts: a turn that has run TURN_MS is reported as held too long, and waiters resume one per
// group per turn, round-robin, so one group's many waiters cannot delay another group's one.
import { describe, expect, it } from 'vitest'
import { heldTooLong, nextTurn, TURN_MS } from '../../src/source/turn-budget.js'

describe('turn budget', () => {
  it('reports a turn held for TURN_MS, and a fresh turn as not held', async () => {
    await nextTurn()
    expect(heldTooLong()).toBe(false)
    const start = performance.now()
    while (performance.now() - start < TURN_MS + 1) { /* hold the event loop */ }
    expect(heldTooLong()).toBe(true)
    await new Promise((r) => setImmediate(r))
    await new Promise((r) => setImmediate(r))
    expect(heldTooLong()).toBe(false)
  })

  it('resumes waiters round-robin across groups, each once, in order within a group', async () => {
    const crowd = {}
    const alone = {}
    const order: string[] = []
    const waits = Array.from({ length: 100 }, (_, i) => nextTurn(crowd).then(() => order.push(`crowd ${i}`)))
    waits.push(nextTurn(alone).then(() => order.push('alone')))
    await Promise.all(waits)
    expect(order.indexOf('alone')).toBe(1) // after the crowd's first, not after all hundred
    expect(order.filter((o) => o !== 'alone')).toEqual(Array.from({ length: 100 }, (_, i) => `crowd ${i}`))
  })
})
