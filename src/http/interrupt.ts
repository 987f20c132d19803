// Interruptible live requests (Phoenix.Sync's `interrupt`): held requests register the shape they serve;
// `interrupt(match)` ends the matching ones, which re-run their shape function and either continue (same
// shape) or answer 409 with the new shape's handle.
import type { ShapeDefinition } from '../shape/definition.js'
import { isModelDelegate, modelOf } from '../shape/model.js'
import { Shape } from '../sync/shape.js'

/**
 * What to interrupt: a table name, a Prisma model delegate (its table), a shape (same definition,
 * any replica), some definition fields that must all be equal, or a predicate.
 */
export type InterruptMatch =
  | string
  | Shape<any>
  | Partial<Pick<ShapeDefinition, 'table' | 'namespace' | 'where' | 'params' | 'columns'>>
  | ((definition: ShapeDefinition) => boolean)
  /** A Prisma model delegate such as `prisma.todo`. */
  | object

/** A live request registered for interrupts: its signal aborts when the client leaves or it is interrupted. */
export interface Hold {
  readonly signal: AbortSignal
  readonly interrupted: boolean
  /** Unregisters; call once the response has been sent. */
  release(): void
}

export class InterruptRegistry {
  private readonly held = new Map<symbol, { definition: ShapeDefinition; interrupt: () => void }>()

  /** Registers a live request serving `definition`; `client` is the request's own abort signal. */
  hold(definition: ShapeDefinition, client: AbortSignal): Hold {
    const id = Symbol('request')
    const controller = new AbortController()
    const abort = () => controller.abort()
    client.addEventListener('abort', abort, { once: true })
    const hold = {
      signal: controller.signal,
      interrupted: false,
      release: () => {
        client.removeEventListener('abort', abort)
        this.held.delete(id)
      },
    }
    this.held.set(id, { definition, interrupt: () => { hold.interrupted = true; abort() } })
    return hold
  }

  /** Interrupts every held request whose shape matches; returns how many. */
  interrupt(match: InterruptMatch): number {
    const test = matcher(match)
    let count = 0
    for (const [id, entry] of [...this.held]) {
      if (!test(entry.definition)) continue
      this.held.delete(id)
      entry.interrupt()
      count++
    }
    return count
  }

  get size(): number {
    return this.held.size
  }
}

function matcher(match: InterruptMatch): (definition: ShapeDefinition) => boolean {
  if (typeof match === 'function') return match as (d: ShapeDefinition) => boolean
  if (typeof match === 'string') return (d) => d.table === match
  if (match instanceof Shape) return fieldsMatcher({ ...match.definition, replica: undefined })
  if (isModelDelegate(match)) {
    const model = modelOf(match)
    return (d) => d.table === model.table && d.namespace === model.namespace
  }
  return fieldsMatcher(match as Partial<ShapeDefinition>)
}

function fieldsMatcher(fields: Partial<ShapeDefinition>): (definition: ShapeDefinition) => boolean {
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined)
  return (definition) => entries.every(([key, value]) =>
    JSON.stringify(definition[key as keyof ShapeDefinition] ?? null) === JSON.stringify(value))
}
