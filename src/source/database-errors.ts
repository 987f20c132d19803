// What a client is told about a Postgres error: our own sentence for its SQLSTATE, naming the problem
// (and the column or constraint, which the app's schema already exposes), never Postgres's text, which
// can carry values, SQL and server details. The original goes to the server's log with a request id.
import { sqlStateOf } from './errors.js'

const byState: Record<string, string> = {
  '08P01': 'the query has more parameters than Postgres accepts in one statement (65,535)',
  '0A000': 'the query uses a feature Postgres does not support there',
  '21000': 'a subquery returned more than one row',
  '22001': 'a value is too long for its column',
  '22003': 'a number is out of range for its column type',
  '22007': 'a date or time value has an invalid format',
  '22008': 'a date or time value is out of range',
  '22012': 'division by zero',
  '22021': 'a text value contains a character its encoding cannot hold (e.g. a NUL character)',
  '22023': 'a value is invalid for the function or operator it is passed to',
  '22025': 'a LIKE pattern has an invalid escape sequence',
  '2201B': 'a regular expression is invalid',
  '22P02': 'a value is not valid for its column type',
  '22P05': 'a text value has a character the database encoding cannot represent',
  '23502': 'a required value is missing (NOT NULL)',
  '23503': 'a referenced row does not exist, or the row is still referenced (foreign key)',
  '23505': 'a row with the same unique key already exists',
  '23514': 'a value violates a check constraint',
  '23P01': 'a row conflicts with an existing one (exclusion constraint)',
  '40001': 'the transaction conflicted with a concurrent one (serialization failure); retry it',
  '40P01': 'the transaction was aborted to resolve a deadlock; retry it',
  '42501': 'the database role may not read this (permission denied)',
  '42601': 'the query has a syntax error',
  '42703': 'the query names a column that does not exist',
  '42804': 'a value has the wrong type for its column',
  '42883': 'the query uses an operator or function that does not exist for these types',
  '42P18': 'the type of a parameter could not be determined',
  '54000': 'the query exceeds a Postgres limit (too large or too many terms)',
  '54001': 'the query is too complex for Postgres (too deeply nested)',
  '54023': 'the query passes too many arguments to a function',
  '57014': 'the query was canceled (statement timeout)',
}

const byClass: Record<string, string> = {
  '22': 'a value Postgres rejects',
  '23': 'a value violates a constraint',
  '42': 'a query Postgres rejects',
  '54': 'the query exceeds a Postgres limit',
}

/**
 * Our sentence for a Postgres error (`pg` error, or Prisma's driver-adapter error), with the SQLSTATE
 * and the column or constraint Postgres names; undefined for an error without a SQLSTATE.
 */
export function describeDatabaseError(error: unknown): string | undefined {
  const state = sqlStateOf(error)
  if (!state) return undefined
  const text = byState[state] ?? byClass[state.slice(0, 2)] ?? 'the database could not run the query'
  const e = error as { column?: unknown; constraint?: unknown; meta?: { driverAdapterError?: { cause?: { column?: unknown; constraint?: unknown } } } }
  const cause = e.meta?.driverAdapterError?.cause
  const column = stringOf(e.column) ?? stringOf(cause?.column)
  const constraint = stringOf(e.constraint) ?? constraintName(cause?.constraint)
  const named = column ? ` (column "${column}")` : constraint ? ` (constraint "${constraint}")` : ''
  return `${text}${named} [SQLSTATE ${state}]`
}

const stringOf = (value: unknown): string | undefined => typeof value === 'string' && value !== '' ? value : undefined

/** Prisma's adapter reports a constraint as `{ index }`, `{ fields: [...] }` or a name. */
function constraintName(value: unknown): string | undefined {
  if (typeof value === 'string') return stringOf(value)
  if (typeof value !== 'object' || value === null) return undefined
  const v = value as { index?: unknown; fields?: unknown }
  if (typeof v.index === 'string') return v.index
  if (Array.isArray(v.fields) && v.fields.every((f) => typeof f === 'string')) return v.fields.join(', ')
  return undefined
}
