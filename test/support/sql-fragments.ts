// Where clauses built as SQL fragments whose parameters are numbered when rendered, for the
// differential tests (evaluator vs Postgres).

export class Param {
  constructor(readonly value: string, readonly cast?: string) {}
}
export type Sql = readonly (string | Param)[]

/** A template of fragments: interpolated parts are fragments or plain SQL text. */
export const sql = (strings: TemplateStringsArray, ...parts: (Sql | string)[]): Sql =>
  strings.flatMap((s, i) => (i < parts.length ? [s, ...(typeof parts[i] === 'string' ? [parts[i] as string] : (parts[i] as Sql))] : [s]))

/** A SQL string literal. */
export const lit = (text: string) => `'${text.replaceAll("'", "''")}'`

/** The clause's text with `$n` (and `::cast` where given) for each parameter, and the parameters. */
export function render(s: Sql): { text: string; params: string[] } {
  const params: string[] = []
  const text = s.map((p) => {
    if (typeof p === 'string') return p
    params.push(p.value)
    return p.cast ? `$${params.length}::${p.cast}` : `$${params.length}`
  }).join('')
  return { text, params }
}
