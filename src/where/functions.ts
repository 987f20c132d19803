// The functions a where clause may call, and why the others are refused.
import { codecOf, type Value } from './codec.js'
import type { CaseMapping } from './collation.js'
import { likeEscape, lowerFor, upperFor } from './text.js'
import { TEXT, type PgType } from './types.js'

export interface FunctionSpec {
  /** Argument types (arguments are converted to them); undefined: any number of arguments of any type. */
  readonly params?: readonly PgType[]
  readonly result: PgType
  /** Strict functions return NULL for any NULL argument without being called. */
  readonly strict: boolean
  /** STABLE in Postgres, so never evaluated while compiling. */
  readonly stable?: boolean
  /** Maps case by its arguments' collation (LC_CTYPE): the compiler checks it and passes its mapping. */
  readonly caseMapping?: true
  /** The implementation for arguments of the given (converted) types. */
  build(types: readonly PgType[], mapping: CaseMapping): (args: readonly (Value | null)[]) => Value | null
}

const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  lower: { params: [TEXT], result: TEXT, strict: true, caseMapping: true, build: (_, mapping) => { const f = lowerFor(mapping); return (args) => f(args[0] as string) } },
  upper: { params: [TEXT], result: TEXT, strict: true, caseMapping: true, build: (_, mapping) => { const f = upperFor(mapping); return (args) => f(args[0] as string) } },
  // concat() joins its arguments' output forms (true → 't'), skipping NULLs.
  concat: {
    result: TEXT,
    strict: false,
    stable: true,
    build(types) {
      const outputs = types.map((t) => (t.kind === 'unknown' ? (v: Value) => v as string : codecOf(t).output))
      return (args) => {
        let s = ''
        for (let i = 0; i < args.length; i++) if (args[i] !== null) s += outputs[i]!(args[i]!)
        return s
      }
    },
  },
  // What `LIKE pattern ESCAPE e` becomes in the parse tree.
  like_escape: { params: [TEXT, TEXT], result: TEXT, strict: true, build: () => (args) => likeEscape(args[0] as string, args[1] as string) },
}

const NON_DETERMINISTIC = new Set([
  'now', 'random', 'random_normal', 'setseed', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp',
  'timeofday', 'nextval', 'currval', 'lastval', 'setval', 'gen_random_uuid', 'uuid_generate_v1', 'uuid_generate_v4',
  'uuidv4', 'uuidv7', 'txid_current', 'pg_current_xact_id', 'txid_current_snapshot', 'pg_current_snapshot',
  'current_setting', 'inet_client_addr', 'pg_backend_pid', 'version', 'age', 'current_database', 'current_schema',
  'current_user', 'session_user', 'current_role', 'user', 'current_date', 'current_time', 'current_timestamp',
  'localtime', 'localtimestamp', 'to_char', 'pg_sleep',
])

const AGGREGATES = new Set([
  'count', 'sum', 'avg', 'min', 'max', 'array_agg', 'string_agg', 'bool_and', 'bool_or', 'every', 'json_agg',
  'jsonb_agg', 'json_object_agg', 'jsonb_object_agg', 'stddev', 'stddev_pop', 'stddev_samp', 'variance',
  'var_pop', 'var_samp', 'bit_and', 'bit_or', 'bit_xor', 'percentile_cont', 'percentile_disc', 'mode', 'rank',
  'dense_rank', 'row_number', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value', 'cume_dist',
  'percent_rank', 'xmlagg', 'range_agg', 'range_intersect_agg', 'any_value', 'corr', 'covar_pop', 'covar_samp',
  'regr_avgx', 'regr_avgy', 'regr_count', 'regr_intercept', 'regr_r2', 'regr_slope', 'regr_sxx', 'regr_sxy', 'regr_syy',
])

/** The function's implementation, or the reason it cannot be used. */
export function lookupFunction(name: string): FunctionSpec | string {
  const spec = FUNCTIONS[name]
  if (spec) return spec
  if (NON_DETERMINISTIC.has(name)) return `${name}() is not allowed: not deterministic`
  if (AGGREGATES.has(name)) return `aggregate functions are not allowed: ${name}()`
  return `function ${name} is not supported`
}
