// A snapshot row's log message as one SQL text expression: Postgres builds the JSON text HTTP sends, so
// Node never makes an object per row. The text is byte for byte what JSON.stringify makes of the message
// the engine builds from a replicated row (ShapeLog.keyOf / project): the same key, the value's columns
// in the order a JS object keeps them, Postgres's JSON string escaping (to_json: `"`, `\`, \b \f \n \r \t,
// other control characters as lowercase \u00XX, everything else as is), which is JSON.stringify's for
// any text Postgres can hold (no NUL, no lone surrogates). Types whose text never holds a character JSON
// escapes (numbers, booleans, uuids, ISO dates and times) skip to_json, the costly part.
import { quoteIdent, type ColumnInfo, type TableInfo } from './catalog.js'

/** Built-in types (by OID, so no user type or domain of that name) whose text output JSON never escapes. */
const plainTextTypes = new Set([
  16, // bool
  20, 21, 23, 26, // int8, int2, int4, oid
  700, 701, 1700, // float4, float8, numeric
  2950, // uuid
  1082, 1083, 1266, 1114, 1184, 1186, // date, time, timetz, timestamp, timestamptz, interval (ISO display settings)
])

/** The column's Postgres text, as the snapshot reads it: bpchar::text drops the padding, concat() keeps it (as Electric does). */
export function columnText(column: ColumnInfo): string {
  return column.type === 'bpchar' && column.dims === 0 ? `concat(${quoteIdent(column.name)})` : `${quoteIdent(column.name)}::text`
}

/** A SQL string literal of `text`, right whatever `standard_conforming_strings` is. */
function literal(text: string): string {
  const quoted = text.replaceAll("'", "''")
  return text.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`
}

/**
 * The order JSON.stringify writes an object's keys in: array-index names ("0", "17") first, ascending,
 * then the others as they were added. `__proto__` is no own key of an object it is assigned to, so
 * it is never written.
 */
export function objectKeyOrder(names: readonly string[]): string[] {
  const isIndex = (name: string) => /^(0|[1-9][0-9]*)$/.test(name) && Number(name) < 2 ** 32 - 1
  const indexes = names.filter(isIndex).sort((a, b) => Number(a) - Number(b))
  return [...new Set([...indexes, ...names.filter((n) => !isIndex(n) && n !== '__proto__')])]
}

/**
 * SQL of the insert message of a snapshot row: `{"key":…,"value":{…},"headers":{"operation":"insert",
 * "relation":[schema, table]}}`. `columns` are the selected ones, in table order.
 */
export function snapshotMessageSql(table: TableInfo, columns: readonly string[]): string {
  const info = (name: string) => table.byName.get(name)!
  const plain = (column: ColumnInfo) => plainTextTypes.has(column.typeOid)
  // A JSON string of the column's text (or null): quotes only, for text that never needs escaping.
  const jsonValue = (column: ColumnInfo) =>
    plain(column) ? `coalesce('"' || ${columnText(column)} || '"', 'null')` : `coalesce(to_json(${columnText(column)})::text, 'null')`

  // The key: `"schema"."table"/"v1"/"v2"`, `/` doubled inside values, NULL as `_` (ShapeLog.keyOf).
  const prefix = `"${table.namespace}"."${table.table}"`
  const pk = table.primaryKey.map(info)
  const key = pk.every(plain)
    // Text that needs no escaping (and holds no `/`): the key's JSON written directly, its constant parts escaped here.
    ? [literal(JSON.stringify(prefix).slice(0, -1)), ...pk.map((c) => `coalesce(${literal('/\\"')} || ${columnText(c)} || ${literal('\\"')}, '/_')`), `'"'`].join(' || ')
    : `to_json(${[literal(prefix), ...pk.map((c) => `coalesce('/"' || replace(${columnText(c)}, '/', '//') || '"', '/_')`)].join(' || ')})::text`

  const pieces = [`'{"key":'`, key]
  let separator = ',"value":{'
  for (const name of objectKeyOrder(columns)) {
    pieces.push(literal(`${separator}${JSON.stringify(name)}:`), jsonValue(info(name)))
    separator = ','
  }
  const headers = { operation: 'insert', relation: [table.namespace, table.table] }
  pieces.push(literal(`${separator === ',' ? '}' : ',"value":{}'},"headers":${JSON.stringify(headers)}}`))
  return pieces.join(' || ')
}
