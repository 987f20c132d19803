// The `html` tagged template, for apps that write their row templates as template literals:
// interpolations are escaped unless they are already HTML (a nested `html` template or `raw(...)`).
// The live views themselves escape nothing; whatever renders a row is responsible for its markup.

/** Markup that is safe to insert as is. */
export class Html {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value
  }
}

/** What `html` accepts: null, undefined and booleans render nothing (as in JSX), arrays are joined. */
export type HtmlValue = Html | string | number | bigint | boolean | Date | null | undefined | readonly HtmlValue[]

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? ''
  for (let i = 0; i < values.length; i++) out += interpolate(values[i]) + (strings[i + 1] ?? '')
  return new Html(out)
}

/** Marks trusted markup so `html` inserts it unescaped. */
export const raw = (markup: string): Html => new Html(markup)

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Escapes text for use in element content and quoted attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => entities[c]!)

function interpolate(value: HtmlValue): string {
  if (value instanceof Html) return value.value
  if (Array.isArray(value)) return value.map(interpolate).join('')
  if (value === null || value === undefined || typeof value === 'boolean') return ''
  return escapeHtml(value instanceof Date ? value.toISOString() : String(value))
}
