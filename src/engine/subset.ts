// Subset snapshots (Electric's `subset__*`): the shape's rows that also match a client's condition, in a
// client's order and page, read in one REPEATABLE READ transaction whose pg_current_snapshot() and WAL
// position come back as metadata. The client's SQL is validated by the where compiler (the real
// Postgres parser, only supported constructs, only the table's columns) before it reaches Postgres.
// The result is held in memory until it is sent, so it is read through a cursor and refused once its
// values pass `subsetBytes` (the engine runs it on a turn of the snapshot gate, so at most
// concurrentSnapshots of these are held at once).
import { randomInt } from 'node:crypto'
import { scanSync, type ScanToken } from 'libpg-query'
import type pg from 'pg'
import { LimitError } from '../limits/index.js'
import type { ChangeMessage } from '../source/messages.js'
import type { SubsetMetadata, SubsetRequest } from '../source/source.js'
import { compileWhere, WhereError } from '../where/index.js'
import { qualified, quoteIdent } from './catalog.js'
import { EngineError, rejectedQuery } from './errors.js'
import { lsnToBigInt } from './lsn.js'
import { isTableChange, TableChangedError } from './relations.js'
import type { ShapeLog } from './shape-log.js'
import { displaySettings } from './snapshot.js'

/** Rows fetched at a time: the most a result can go past `maxBytes` before it is refused. */
const batchRows = 1000

export async function querySubset(
  pool: pg.Pool, log: ShapeLog, request: SubsetRequest, maxBytes: number,
): Promise<{ metadata: SubsetMetadata; messages: ChangeMessage[] }> {
  const { table, definition } = log
  // Only the shape's own columns: filtering or ordering by a column the shape hides would reveal it.
  const types = new Map(log.columns.map((name) => {
    const c = table.byName.get(name)!
    return [c.name, { type: c.type, dims: c.dims, isEnum: c.isEnum, enumLabels: c.enumLabels }] as const
  }))
  const params = request.params ?? []
  const shift = definition.params?.length ?? 0
  const conditions: string[] = []
  if (definition.where) conditions.push(`(${definition.where})`)
  const validate = (field: string, sql: string) => {
    // Each piece is compiled with just the parameters it uses, renumbered from $1.
    const used = [...new Set(scan(sql).filter((t) => t.tokenName === 'PARAM').map((t) => Number(t.text.slice(1))))].sort((a, b) => a - b)
    const local = rewriteParams(sql, (n) => used.indexOf(n) + 1)
    try {
      compileWhere(local, types, used.map((n) => params[n - 1]).filter((v): v is string => v !== undefined))
    } catch (error) {
      if (error instanceof WhereError) throw new EngineError(field, error.message)
      throw error
    }
  }
  if (request.where !== undefined) {
    validate('subset.where', request.where)
    // Newlines: a trailing `--` comment in the client's text cannot swallow the closing parenthesis.
    conditions.push(`(\n${rewriteParams(request.where, (n) => n + shift)}\n)`)
  }
  const orderBy = request.orderBy === undefined ? undefined : orderByItems(request.orderBy).map(({ expr, suffix }) => {
    validate('subset.order_by', `(${expr}) IS NULL`)
    return `(\n${rewriteParams(expr, (n) => n + shift)}\n)${suffix}`
  })
  const columns = [...new Set([...log.columns, ...table.primaryKey])]
  const select = columns.map((c) => {
    const column = table.byName.get(c)!
    return column.type === 'bpchar' && column.dims === 0 ? `concat(${quoteIdent(c)})` : `${quoteIdent(c)}::text`
  })
  const sql = `SELECT ${select.join(', ')} FROM ${qualified(table.namespace, table.table)}` +
    (conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '') +
    (orderBy ? ` ORDER BY ${orderBy.join(', ')}` : '') +
    (request.limit !== undefined ? ` LIMIT ${request.limit}` : '') +
    (request.offset !== undefined ? ` OFFSET ${request.offset}` : '')

  const client = await pool.connect()
  let failed = false
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    for (const [name, value] of Object.entries(displaySettings)) await client.query(`SELECT set_config($1, $2, true)`, [name, value])
    const { rows } = await client.query<{ snapshot: string; lsn: string }>(
      `SELECT pg_current_snapshot()::text AS snapshot, pg_current_wal_lsn()::text AS lsn`,
    )
    const [xmin, xmax, xip] = rows[0]!.snapshot.split(':') as [string, string, string]
    const mark = randomInt(0, 2 ** 31 - 1)
    const metadata: SubsetMetadata = {
      xmin, xmax, xip_list: xip ? xip.split(',') : [], snapshot_mark: mark, database_lsn: lsnToBigInt(rows[0]!.lsn).toString(),
    }
    await client.query({ text: `DECLARE trpc_sync_subset NO SCROLL CURSOR FOR ${sql}`, values: [...(definition.params ?? []), ...params] })
    const messages: ChangeMessage[] = []
    let bytes = 0
    for (;;) {
      const { rows: batch } = await client.query<(string | null)[]>({ text: `FETCH ${batchRows} FROM trpc_sync_subset`, rowMode: 'array' })
      for (const values of batch) {
        const row: Record<string, string | null> = {}
        columns.forEach((c, i) => {
          const value = values[i] ?? null
          if (value !== null) bytes += Buffer.byteLength(value)
          row[c] = value
        })
        messages.push({ key: log.keyOf(row), value: log.project(row), headers: { operation: 'insert', relation: log.relation, snapshot_mark: mark } })
      }
      if (bytes > maxBytes) {
        throw new LimitError('subsetBytes', maxBytes, 'The subset is too large to send at once; ask for fewer rows (subset__limit, a narrower subset__where)')
      }
      if (batch.length < batchRows) break
    }
    await client.query('COMMIT')
    return { metadata, messages }
  } catch (error) {
    // A LimitError leaves the connection usable; anything else may not have.
    failed = !(error instanceof LimitError)
    await client.query('ROLLBACK').catch(() => {})
    if (error instanceof LimitError) throw error
    // The table dropped or altered since the log's catalog read: the shape is gone, not the request wrong.
    if (isTableChange(error)) throw new TableChangedError(log.table)
    // Postgres rejecting the client's values (a bad enum label, an out-of-range number) is the client's error.
    throw rejectedQuery(error, 'subset.where') ?? error
  } finally {
    client.release(failed)
  }
}

/** Rewrites each `$n` placeholder to `$(to(n))`; tokens, so string literals and identifiers are untouched. */
function rewriteParams(sql: string, to: (n: number) => number): string {
  let out = ''
  let at = 0
  for (const token of scan(sql)) {
    if (token.tokenName !== 'PARAM') continue
    out += `${sql.slice(at, token.start)}$${to(Number(token.text.slice(1)))}`
    at = token.end
  }
  return out + sql.slice(at)
}

/**
 * Splits an ORDER BY list into expressions and their `ASC|DESC [NULLS FIRST|LAST]` suffixes, at top-level
 * commas. Each expression is then validated on its own; comments and `USING` are refused.
 */
function orderByItems(text: string): { expr: string; suffix: string }[] {
  const tokens = scan(text)
  const invalid = (reason: string) => new EngineError('subset.order_by', reason)
  if (tokens.some((t) => t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT')) throw invalid('comments are not allowed')
  const items: ScanToken[][] = [[]]
  let depth = 0
  for (const token of tokens) {
    if (token.text === '(' || token.text === '[') depth++
    if (token.text === ')' || token.text === ']') depth--
    if (depth < 0) throw invalid('unbalanced parentheses')
    if (token.text === ',' && depth === 0) items.push([])
    else items.at(-1)!.push(token)
  }
  if (depth !== 0) throw invalid('unbalanced parentheses')
  return items.map((item) => {
    const words = item.map((t) => t.text.toUpperCase())
    let end = item.length
    let suffix = ''
    if (words[end - 2] === 'NULLS' && (words[end - 1] === 'FIRST' || words[end - 1] === 'LAST')) {
      suffix = ` NULLS ${words[end - 1]}`
      end -= 2
    }
    if (words[end - 1] === 'ASC' || words[end - 1] === 'DESC') {
      suffix = ` ${words[end - 1]}${suffix}`
      end -= 1
    }
    if (end === 0) throw invalid('expected an expression to order by')
    if (words.slice(0, end).includes('USING')) throw invalid('USING is not supported')
    return { expr: text.slice(item[0]!.start, item[end - 1]!.end), suffix }
  })
}

function scan(sql: string): ScanToken[] {
  try {
    return scanSync(sql).tokens
  } catch (error) {
    throw new EngineError('subset', (error as Error).message)
  }
}
