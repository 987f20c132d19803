// The parameters a client controls on a shape request (offset, handle, live, cursor, live_sse, log and
// subset__*), validated in the order and with the messages of Electric's `Api.Params`. Anything else a
// client sends (table, where, columns, params, replica, unknown keys) is not read here.

export interface SubsetParams {
  where?: string
  params?: string[]
  orderBy?: string
  limit?: number
  offset?: number
}

export interface ClientParams {
  /** `-1`, `now` or `<tx>_<op>` in canonical form (`0_02` becomes `0_2`, `-1_0` becomes `-1`). */
  offset: string
  /** Absent for `-1` and `now`, where Electric ignores it (it only busts caches). */
  handle?: string
  live: boolean
  liveSse: boolean
  cursor?: string
  /** `log=changes_only`. */
  changesOnly: boolean
  subset?: SubsetParams
}

/** Electric's `errors` object: field → messages, nested one level for `subset`. */
export type ParamErrors = Record<string, string[] | Record<string, string[]>>

export type ParseResult = { ok: true; params: ClientParams } | { ok: false; errors: ParamErrors }

const logKeys: readonly string[] = ['offset', 'handle', 'live', 'live_sse', 'experimental_live_sse', 'cursor', 'log']
const subsetKeys: readonly string[] = ['where', 'order_by', 'limit', 'offset', 'params', 'where_expr', 'order_by_expr']

/**
 * Reads the client-controlled parameters from the query string and, for POST, the JSON body (whose
 * `where`, `params`, `limit`, `offset`, `order_by` or `subset` object describe a subset).
 */
export function parseClientParams(query: URLSearchParams, body?: Record<string, unknown>): ParseResult {
  const raw = new Map<string, string>()
  for (const key of logKeys) {
    const value = query.get(key)
    if (value !== null) raw.set(key, value)
  }
  const subset = new Map<string, unknown>()
  for (const key of subsetKeys) {
    const value = query.get(`subset__${key}`)
    if (value !== null) subset.set(key, value)
  }
  if (body) mergeBody(body, raw, subset)

  const errors: ParamErrors = {}
  const log = raw.get('log')
  if (log !== undefined && log !== 'full' && log !== 'changes_only') errors.log = ['is invalid']
  const offsetText = blankToUndefined(raw.get('offset'))
  if (offsetText === undefined) errors.offset = ["can't be blank"]
  if (Object.keys(errors).length) return { ok: false, errors }

  const offset = canonicalOffset(offsetText!)
  if (offset === undefined) return fail('offset', 'has invalid format')
  const live = flag(raw.get('live'))
  const liveSse = flag(raw.get('live_sse') ?? raw.get('experimental_live_sse'))
  const handle = blankToUndefined(raw.get('handle'))
  const atStart = offset === '-1' || offset === 'now'
  if (!atStart && handle === undefined) return fail('handle', "can't be blank when offset != -1")
  if (live && offset === '-1') return fail('live', "can't be true when offset == -1")
  if (live && offset === 'now') return fail('live', "can't be true when offset is 'now'")
  if (liveSse && !live) return fail('live_sse', "can't be true unless live is also true")

  const params: ClientParams = { offset, live, liveSse, changesOnly: log === 'changes_only' }
  if (!atStart) params.handle = handle
  const cursor = raw.get('cursor')
  if (cursor !== undefined) params.cursor = cursor
  if (subset.size > 0) {
    const parsed = parseSubset(subset)
    if (!parsed.ok) return { ok: false, errors: { subset: parsed.errors } }
    params.subset = parsed.subset
  }
  return { ok: true, params }
}

function mergeBody(body: Record<string, unknown>, raw: Map<string, string>, subset: Map<string, unknown>): void {
  for (const [key, value] of Object.entries(body)) {
    if (key === 'subset' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) if (subsetKeys.includes(k)) subset.set(k, v)
    } else if (subsetKeys.includes(key)) {
      subset.set(key, value)
    } else if (logKeys.includes(key)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') raw.set(key, String(value))
    }
  }
}

/** Electric's boolean rule for `live` / `live_sse`: anything but the literal `false` (even empty) is true. */
const flag = (value: string | undefined): boolean => value !== undefined && value !== 'false'

const blankToUndefined = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value

const fail = (field: string, message: string): ParseResult => ({ ok: false, errors: { [field]: [message] } })

const maxOffset = 0xffffffffffffffffn

/** Electric's `LogOffset.from_string`, normalized: integers may carry a sign and leading zeros. */
export function canonicalOffset(text: string): string | undefined {
  if (text === '-1' || text === 'now') return text
  const parts = text.split('_')
  if (parts.length !== 2) return undefined
  const tx = parseInteger(parts[0]!)
  if (tx === undefined) return undefined
  if (parts[1] === 'inf') return tx >= 0n && tx <= maxOffset ? `${tx}_inf` : undefined
  const op = parseInteger(parts[1]!)
  if (op === undefined) return undefined
  if (tx === -1n && op === 0n) return '-1'
  return tx >= 0n && tx <= maxOffset && op >= 0n && op <= BigInt(Number.MAX_SAFE_INTEGER) ? `${tx}_${op}` : undefined
}

function parseInteger(text: string): bigint | undefined {
  return /^[+-]?\d+$/.test(text) ? BigInt(text) : undefined
}

type SubsetParse = { ok: true; subset: SubsetParams } | { ok: false; errors: Record<string, string[]> }

/** Electric's `SubsetParams` cast: integer limit/offset, order_by required with them, params as `{"1": v}`. */
function parseSubset(input: Map<string, unknown>): SubsetParse {
  const errors: Record<string, string[]> = {}
  const subset: SubsetParams = {}
  const where = input.get('where')
  if (where !== undefined) {
    if (typeof where === 'string') subset.where = where
    else errors.where = ['is invalid']
  }
  const orderBy = input.get('order_by')
  if (orderBy !== undefined) {
    if (typeof orderBy === 'string') subset.orderBy = orderBy
    else errors.order_by = ['is invalid']
  }
  for (const key of ['limit', 'offset'] as const) {
    const value = input.get(key)
    if (value === undefined) continue
    const n = toInteger(value)
    if (n === undefined) errors[key] = ['is invalid']
    else if (key === 'limit' && n <= 0) errors[key] = ['must be greater than 0']
    else if (key === 'offset' && n < 0) errors[key] = ['must be greater than or equal to 0']
    else subset[key] = n
  }
  if (input.has('params')) {
    const params = subsetParams(input.get('params'))
    if (typeof params === 'string') errors.params = [params]
    else if (params.length) subset.params = params
  }
  if ((input.has('limit') || input.has('offset')) && subset.orderBy === undefined && !errors.order_by) {
    errors.order_by = ['order_by is required when limit or offset is present']
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, subset }
}

function toInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined
  if (typeof value === 'string' && /^[+-]?\d{1,15}$/.test(value.trim())) return Number(value.trim())
  return undefined
}

/** `{"1": "a", "2": "b"}` (a JSON string or an object) → `["a", "b"]`; a string is the error message. */
function subsetParams(value: unknown): string[] | string {
  let object = value
  if (typeof value === 'string') {
    try {
      object = JSON.parse(value)
    } catch {
      return 'params must be valid JSON'
    }
  }
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return 'params must be a JSON object'
  const record = object as Record<string, unknown>
  const count = Object.keys(record).length
  const values: string[] = []
  for (let i = 1; i <= count; i++) {
    const v = record[String(i)]
    if (v === undefined) return `parameters must be numbered from $1 to $${count}`
    if (v === null || typeof v === 'object') return `parameter $${i} must be a string, number or boolean`
    values.push(String(v))
  }
  return values
}
