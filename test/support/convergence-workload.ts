// The seeded workload of the convergence property (test/engine/convergence.test.ts): one table, several
// writer connections running interleaved multi-statement transactions, and the steps that start,
// resume and rotate shapes between their statements. Everything a run does is a value drawn from the
// fast-check seed; the only freedom left is how the engine's own async work (snapshots, replication)
// falls between the steps. Writers own disjoint key sets (id % writers), so no statement ever waits
// for another writer's lock and stepping the writers one statement at a time cannot deadlock.
import fc from 'fast-check'
import type pg from 'pg'
import type { ShapeDefinition } from '../../src/shape/definition.js'

export const table = 'conv'
export const createTable =
  `CREATE TABLE ${table} (id int PRIMARY KEY, grp int NOT NULL, val text, flag bool NOT NULL DEFAULT false, doc text)`
/** Keys per writer: writer w owns ids w, w + W, w + 2W, … */
const keysPerWriter = 10

/** A `doc` value: SQL NULL, a short text, or a TOAST-sized text expanded from a seed. */
export type DocSpec = null | { short: number } | { toast: number }
export interface RowValues { grp: number; val: string | null; flag: boolean; doc: DocSpec }
/** A row a writer inserts, at its key number `k`. */
export interface RowSpec extends RowValues { k: number }

export type Op =
  | { kind: 'insert'; rows: RowSpec[]; undo: boolean }
  | { kind: 'update'; k: number; grp: number; val: string | null; flag: boolean; undo: boolean }
  | { kind: 'updateDoc'; k: number; doc: DocSpec; undo: boolean }
  | { kind: 'updateWhere'; grp: number; to: number; undo: boolean }
  | { kind: 'delete'; k: number; undo: boolean }
  | { kind: 'rekey'; k: number; to: number; undo: boolean }

export interface Tx {
  ops: Op[]
  rollback: boolean
  /** Stays open (its commit deferred) until every scheduled step has run. */
  hold: boolean
}

export type ShapeSpec = Pick<ShapeDefinition, 'where' | 'params' | 'columns' | 'replica'>

export type Step =
  | { kind: 'write'; writer: number }
  | { kind: 'shape'; shape: ShapeSpec }
  /** A new reader resuming where an earlier reader was: at its snapshot-end, its last change, its last item, or a fraction of its items. */
  | { kind: 'resume'; reader: number; at: 'snapshot-end' | 'change' | 'last' | number }
  | { kind: 'rotate'; reader: number }
  | { kind: 'pause'; ms: number }
  /** Waits until the engine has applied every commit so far (and readers had a moment to read it). */
  | { kind: 'flush' }

export interface RunSpec {
  writers: number
  identity: 'full' | 'default'
  /** Whether the table is in the publication before the first shape (false: the first shape publishes it under load). */
  published: boolean
  chunkBytes: number
  maxLogEntries: number
  /** Row i (if any) is the initial row with id i. */
  initial: (RowValues | null)[]
  programs: Tx[][]
  steps: Step[]
}

const k = fc.nat({ max: keysPerWriter - 1 })
const grp = fc.nat({ max: 4 })
const val = fc.option(fc.constantFrom('a', 'ab', 'b', 'ba', 'c'), { nil: null, freq: 5 })
const doc: fc.Arbitrary<DocSpec> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.nat({ max: 99 }).map((short) => ({ short })) },
  { weight: 2, arbitrary: fc.nat().map((toast) => ({ toast })) },
)
const values: fc.Arbitrary<RowValues> = fc.record({ grp, val, flag: fc.boolean(), doc })
const row: fc.Arbitrary<RowSpec> = fc.record({ k, values }).map(({ k, values }) => ({ k, ...values }))
const rarely = fc.nat({ max: 9 }).map((n) => n === 0)

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), rows: fc.array(row, { minLength: 1, maxLength: 3 }), undo: rarely }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('update' as const), k, grp, val, flag: fc.boolean(), undo: rarely }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('updateDoc' as const), k, doc, undo: rarely }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('updateWhere' as const), grp, to: grp, undo: rarely }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), k, undo: rarely }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('rekey' as const), k, to: k, undo: rarely }) },
)

const tx: fc.Arbitrary<Tx> = fc.record({
  ops: fc.array(op, { minLength: 1, maxLength: 4 }),
  rollback: fc.nat({ max: 6 }).map((n) => n === 0),
  hold: fc.nat({ max: 6 }).map((n) => n === 0),
})

const shape: fc.Arbitrary<ShapeSpec> = fc.record({
  filter: fc.oneof<fc.Arbitrary<Pick<ShapeSpec, 'where' | 'params'>>[]>(
    fc.constant({}),
    grp.map((g) => ({ where: 'grp = $1', params: [String(g)] })),
    fc.constant({ where: 'grp IN (2, 3)' }),
    fc.constant({ where: 'flag = true' }),
    fc.constant({ where: `val LIKE 'a%'` }),
    grp.map((g) => ({ where: 'grp > $1 AND NOT flag', params: [String(g)] })),
    grp.map((g) => ({ where: 'val IS NULL OR grp = $1', params: [String(g)] })),
    fc.nat({ max: 2 }).map((r) => ({ where: 'id % 3 = $1', params: [String(r)] })),
    fc.constant({ where: 'doc IS NULL' }),
    grp.map((g) => ({ where: 'doc IS NOT NULL AND grp <> $1', params: [String(g)] })),
    fc.nat({ max: 39 }).map((n) => ({ where: 'id > $1', params: [String(n)] })),
  ),
  columns: fc.constantFrom<string[] | undefined>(undefined, ['id', 'grp', 'flag'], ['id', 'val', 'doc']),
  replica: fc.constantFrom('default' as const, 'full' as const),
}).map(({ filter, columns, replica }) => ({ ...filter, ...(columns ? { columns } : {}), replica }))

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 24, arbitrary: fc.record({ kind: fc.constant('write' as const), writer: fc.nat({ max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('shape' as const), shape }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('resume' as const),
      reader: fc.nat({ max: 15 }),
      at: fc.oneof(
        { weight: 2, arbitrary: fc.constant('snapshot-end' as const) },
        { weight: 1, arbitrary: fc.constantFrom('change' as const, 'last' as const) },
        { weight: 2, arbitrary: fc.noBias(fc.nat({ max: 999 })).map((n) => n / 1000) },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rotate' as const), reader: fc.nat({ max: 15 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.constantFrom(0, 1, 3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flush' as const) }) },
)

export const runSpec: fc.Arbitrary<RunSpec> = fc.record({
  writers: fc.integer({ min: 3, max: 4 }),
  identity: fc.constantFrom('full' as const, 'default' as const),
  published: fc.boolean(),
  chunkBytes: fc.constantFrom(1500, 4000, 20_000),
  maxLogEntries: fc.constantFrom(25, 100_000, 100_000),
  initial: fc.array(fc.option(values, { nil: null, freq: 3 }), { minLength: 4 * keysPerWriter, maxLength: 4 * keysPerWriter }),
  programs: fc.array(fc.array(tx, { minLength: 1, maxLength: 5 }), { minLength: 4, maxLength: 4 }),
  firstShape: shape,
  firstShapeAt: fc.nat({ max: 20 }),
  steps: fc.array(step, { minLength: 10, maxLength: 60, size: 'max' }),
}).map(({ firstShape, firstShapeAt, steps, ...rest }) => {
  // Every run starts at least one shape, most of them after some writes.
  const at = Math.min(firstShapeAt, steps.length)
  return { ...rest, steps: [...steps.slice(0, at), { kind: 'shape' as const, shape: firstShape }, ...steps.slice(at)] }
})

/** Uncompressible text of 2,200–3,700 characters from a seed: Postgres stores it out of line (TOAST). */
export function docText(spec: DocSpec): string | null {
  if (spec === null) return null
  if ('short' in spec) return `d${spec.short}`
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  let state = spec.toast >>> 0 || 1
  const length = 2200 + (spec.toast % 1500)
  let text = ''
  for (let i = 0; i < length; i++) {
    // xorshift32
    state ^= state << 13; state >>>= 0
    state ^= state >>> 17
    state ^= state << 5; state >>>= 0
    text += alphabet[state & 63]
  }
  return text
}

/** The run's initial rows by id: those of ids the run's writers own. */
export function initialRows(spec: RunSpec): { id: number; row: RowValues }[] {
  const rows: { id: number; row: RowValues }[] = []
  spec.initial.forEach((row, id) => { if (row && id < spec.writers * keysPerWriter) rows.push({ id, row }) })
  return rows
}

export interface WorkloadCounters {
  committed: number
  rolledBack: number
  undone: number
  failedStatements: number
  /** Updates that left a TOASTed `doc` unchanged (pgoutput sends it as "unchanged toast"). */
  unchangedToastUpdates: number
}

/** One writer connection working through its program, one statement per step. */
export class Writer {
  private txIndex = 0
  private opIndex = 0
  private open = false

  constructor(
    private readonly client: pg.Client,
    private readonly index: number,
    private readonly writers: number,
    private readonly program: Tx[],
    private readonly counters: WorkloadCounters,
  ) {}

  get done(): boolean {
    return this.txIndex >= this.program.length
  }

  /** Runs the next statement; false when there is nothing to run (done, or holding its transaction open). */
  async step(draining: boolean): Promise<boolean> {
    const tx = this.program[this.txIndex]
    if (!tx) return false
    if (!this.open) {
      await this.client.query('BEGIN')
      this.open = true
    }
    const op = tx.ops[this.opIndex]
    if (op) {
      this.opIndex++
      await this.run(op)
      return true
    }
    if (tx.hold && !draining) return false
    await this.client.query(tx.rollback ? 'ROLLBACK' : 'COMMIT')
    this.counters[tx.rollback ? 'rolledBack' : 'committed']++
    this.open = false
    this.opIndex = 0
    this.txIndex++
    return true
  }

  private id(key: number): number {
    return this.index + this.writers * key
  }

  private async run(op: Op): Promise<void> {
    const c = this.client
    await c.query('SAVEPOINT s')
    try {
      if (op.kind === 'insert') {
        for (const r of op.rows) {
          await c.query(
            `INSERT INTO ${table} VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET grp = EXCLUDED.grp, val = EXCLUDED.val, flag = EXCLUDED.flag`,
            [this.id(r.k), r.grp, r.val, r.flag, docText(r.doc)],
          )
        }
      } else if (op.kind === 'update') {
        const { rows } = await c.query<{ toasted: boolean }>(
          `UPDATE ${table} SET grp = $2, val = $3, flag = $4 WHERE id = $1 RETURNING length(doc) > 2000 AS toasted`,
          [this.id(op.k), op.grp, op.val, op.flag],
        )
        if (rows[0]?.toasted && !op.undo) this.counters.unchangedToastUpdates++
      } else if (op.kind === 'updateDoc') {
        await c.query(`UPDATE ${table} SET doc = $2 WHERE id = $1`, [this.id(op.k), docText(op.doc)])
      } else if (op.kind === 'updateWhere') {
        await c.query(`UPDATE ${table} SET grp = $2, flag = NOT flag WHERE grp = $1 AND id % $3 = $4`, [op.grp, op.to, this.writers, this.index])
      } else if (op.kind === 'delete') {
        await c.query(`DELETE FROM ${table} WHERE id = $1`, [this.id(op.k)])
      } else {
        await c.query(`UPDATE ${table} SET id = $2 WHERE id = $1`, [this.id(op.k), this.id(op.to)])
      }
      if (op.undo) {
        await c.query('ROLLBACK TO SAVEPOINT s') // an aborted subtransaction: its changes must not show
        this.counters.undone++
      } else {
        await c.query('RELEASE SAVEPOINT s')
      }
    } catch {
      await c.query('ROLLBACK TO SAVEPOINT s') // a key change onto an existing key
      this.counters.failedStatements++
    }
  }
}
