// The shape definition: what one shape log is built from, the same fields the ElectricSQL HTTP API takes.

export type Replica = 'default' | 'full'

export interface ShapeDefinition {
  /** Table name as in the database (unquoted, case kept). */
  table: string
  /** Schema of the table, `public` by default. */
  namespace: string
  /** SQL boolean expression over the table's columns with `$1..$n` placeholders; absent = all rows. */
  where?: string
  /** Values of the placeholders in Postgres text form: `params[0]` is `$1`. */
  params?: string[]
  /** Selected database columns (primary key always included); absent = all columns. */
  columns?: string[]
  replica: Replica
}
