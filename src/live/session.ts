// A rendered page's view on the server: the rows its list shows and the log position they are at.
// html() creates one by reading the shape up to date; the page's WebSocket then continues it from
// that exact position, so nothing committed between render and connect is lost or applied twice.
import type { Shape } from '../sync/shape.js'
import type { SharedEvent } from '../sync/sync.js'
import type { RowList } from './rows.js'

/** What a session needs of its view: the shape to read and how to render rows. */
export interface SessionView<Row> {
  readonly shape: Shape<Row>
  renderRow(key: string, row: Row): string
  renderRows(rows: RowList<Row>): string
}

export interface Position {
  handle: string
  offset: string
}

/** What an event changes in the page's list. */
export type ListChange<Row> =
  | { op: 'insert'; key: string; row: Row; before: string | null }
  | { op: 'update'; key: string; row: Row; before?: string | null }
  | { op: 'delete'; key: string }
  | { op: 'reset' }
  | { op: 'up-to-date' }

export class ViewSession<Row> {
  /**
   * The page's list is not known to match `rows` (a must-refetch cleared them, or the page reconnected
   * from another position): send nothing row by row, send the whole list at the next up-to-date.
   */
  private resetPending: boolean
  /** The connection currently reading for this session. */
  attached: object | undefined

  constructor(
    readonly id: string,
    readonly view: SessionView<Row>,
    readonly rows: RowList<Row>,
    private position: Position = { handle: '', offset: '-1' },
  ) {
    this.resetPending = position.offset === '-1'
  }

  /** The position as the page holds it (opaque to the page). */
  get state(): string {
    return `${this.position.handle}:${this.position.offset}`
  }

  /**
   * Where to read from for a page whose list is at `state`. A page elsewhere gets the whole list at the
   * next up-to-date. A position of -1 (a must-refetch not yet refilled) means starting over, possibly on
   * a newer handle, so the rows so far are dropped.
   */
  resume(state: string): Position {
    if (state !== this.state) this.resetPending = true
    if (this.position.offset === '-1') {
      this.rows.clear()
      this.resetPending = true
    }
    return this.position
  }

  apply({ event, handle, offset }: SharedEvent<Row>): ListChange<Row> | undefined {
    this.position = { handle, offset }
    switch (event.type) {
      case 'insert':
      case 'update': {
        const existed = this.rows.has(event.key)
        const before = this.rows.set(event.key, event.row)
        if (this.resetPending) return undefined
        if (!existed) return { op: 'insert', key: event.key, row: event.row, before: before ?? null }
        return before === undefined ? { op: 'update', key: event.key, row: event.row } : { op: 'update', key: event.key, row: event.row, before }
      }
      case 'delete':
        return this.rows.delete(event.key) && !this.resetPending ? { op: 'delete', key: event.key } : undefined
      case 'must-refetch':
        this.rows.clear()
        this.resetPending = true
        return undefined
      case 'up-to-date':
        if (!this.resetPending) return { op: 'up-to-date' }
        this.resetPending = false
        return { op: 'reset' }
      default:
        return undefined
    }
  }

  /** A copy for a second page showing the same render (a duplicated tab). */
  fork(id: string): ViewSession<Row> {
    const copy = new ViewSession<Row>(id, this.view, this.rows.clone(), this.position)
    copy.resetPending = this.resetPending
    return copy
  }
}
