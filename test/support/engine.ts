// Helpers for engine tests: an engine on a test database, and reading a shape to up-to-date.
import { randomBytes } from 'node:crypto'
import { EmbeddedEngine, type EngineOptions } from '../../src/engine/index.js'
import type { ShapeDefinition } from '../../src/shape/definition.js'
import { isChangeMessage, type Message, type Value } from '../../src/source/messages.js'
import { streamShape, type StreamItem } from '../../src/source/stream.js'

export async function startEngine(databaseUrl: string, options: Partial<EngineOptions> = {}): Promise<EmbeddedEngine> {
  return EmbeddedEngine.start({
    databaseUrl,
    slotName: `test_${randomBytes(5).toString('hex')}`,
    temporarySlot: true,
    ...options,
  })
}

export const shapeOf = (table: string, extra: Partial<ShapeDefinition> = {}): ShapeDefinition =>
  ({ namespace: 'public', table, replica: 'default', ...extra })

/** Applies Electric messages to rows by key, as Electric's `Shape` does. */
export class Materialized {
  rows = new Map<string, Value>()
  apply(message: Message): void {
    if (!isChangeMessage(message)) {
      if (message.headers.control === 'must-refetch') this.rows.clear()
      return
    }
    const { key, value, headers } = message
    if (headers.operation === 'insert') this.rows.set(key, { ...value })
    else if (headers.operation === 'update') this.rows.set(key, { ...this.rows.get(key), ...value })
    else this.rows.delete(key)
  }
}

/**
 * A live reader in the background: applies every message and lets a test wait until the reader has
 * seen up-to-date at or after the current WAL position (so every commit made before is in).
 */
export class LiveReader {
  readonly state = new Materialized()
  readonly items: StreamItem[] = []
  private controller = new AbortController()
  private upToDateCount = 0
  private waiters: (() => void)[] = []
  readonly done: Promise<void>

  constructor(engine: EmbeddedEngine, definition: ShapeDefinition, options: { offset?: string; handle?: string } = {}) {
    this.done = (async () => {
      try {
        for await (const item of streamShape(engine, definition, { ...options, signal: this.controller.signal })) {
          this.items.push(item)
          this.state.apply(item.message)
          if (!isChangeMessage(item.message) && item.message.headers.control === 'up-to-date') {
            this.upToDateCount++
            for (const w of this.waiters.splice(0)) w()
          }
        }
      } catch (error) {
        if (!this.controller.signal.aborted) throw error
      }
    })()
  }

  /** Resolves at the next up-to-date. */
  nextUpToDate(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Resolves once the reader has seen up-to-date at or past `lsn` (e.g. from `engine.flush()`). */
  async reached(lsn: bigint): Promise<void> {
    for (;;) {
      await this.nextUpToDate()
      const last = this.items.at(-1)!.message.headers as { global_last_seen_lsn?: string }
      if (last.global_last_seen_lsn && BigInt(last.global_last_seen_lsn) >= lsn) return
    }
  }

  stop(): Promise<void> {
    this.controller.abort()
    return this.done
  }
}
