// A row's rendered HTML with its key on the root element (`data-key`): how the browser runtime finds
// the element a fragment replaces or removes.
import { escapeHtml } from './html.js'

// Leading whitespace and comments, then the root element's tag name.
const rootTag = /^\s*(?:<!--[\s\S]*?-->\s*)*<[a-zA-Z][\w:-]*/

export function keyedHtml(markup: string, key: string): string {
  const match = rootTag.exec(markup)
  if (!match) {
    throw new TypeError(`a live view's render must return one HTML element per row; got ${JSON.stringify(markup.slice(0, 80))}`)
  }
  const end = match[0].length
  return `${markup.slice(0, end)} data-key="${escapeHtml(key)}"${markup.slice(end)}`
}
