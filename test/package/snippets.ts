// The TypeScript blocks of a Markdown file, each turned into a module of a fresh app: the block itself,
// preceded by one import line that brings in the preamble's names (test/package/app/preamble.tsx) the
// block uses but does not declare. Type errors map back to the Markdown file and line.
import { readFileSync } from 'node:fs'

export interface Snippet {
  /** The Markdown file, relative to the repository. */
  source: string
  /** 1-based line of the block's first code line in `source`. */
  line: number
  lang: 'ts' | 'tsx'
  code: string
  /** Module name in the app folder. */
  file: string
}

export function extractSnippets(root: string, source: string): Snippet[] {
  const lines = readFileSync(`${root}/${source}`, 'utf8').split('\n')
  const snippets: Snippet[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|tsx|typescript)\s*$/.exec(lines[i]!)
    if (!open) continue
    const start = i + 1
    let end = start
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++
    const lang = open[1] === 'tsx' ? 'tsx' : 'ts'
    const code = lines.slice(start, end).join('\n')
    const file = `${source.replace(/[^A-Za-z0-9]+/g, '_')}_L${start + 1}.${lang}`
    snippets.push({ source, line: start + 1, lang, code, file })
    i = end
  }
  return snippets
}

/** Names a block declares at its top level (imports, const/let/function/class/type/interface, destructuring). */
export function declaredNames(code: string): Set<string> {
  const names = new Set<string>()
  for (const m of code.matchAll(/^\s*import\s+(?:type\s+)?([\s\S]*?)\s+from\s/gm)) {
    for (const part of m[1]!.replace(/[{}]/g, ',').split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.replace(/^\*\s*/, '').trim()
      if (/^[A-Za-z_$][\w$]*$/.test(name)) names.add(name)
    }
  }
  for (const m of code.matchAll(/^(?:export\s+)?(?:declare\s+)?(?:async\s+)?(?:const|let|var|function\*?|class|type|interface|enum)\s+([A-Za-z_$][\w$]*)/gm)) names.add(m[1]!)
  for (const m of code.matchAll(/^(?:export\s+)?(?:const|let|var)\s+\{([^}]*)\}/gm)) {
    for (const part of m[1]!.split(',')) {
      const name = part.split(':').pop()!.split('=')[0]!.trim()
      if (name) names.add(name)
    }
  }
  return names
}

/** The block as a module: the preamble's names it uses (a word match: a few unused imports are harmless). */
export function snippetModule(snippet: Snippet, preamble: { names: string[]; types: Set<string> }): { text: string; headerLines: number } {
  const declared = declaredNames(snippet.code)
  const used = preamble.names.filter((name) => !declared.has(name) && new RegExp(`(?<![\\w$.])${name.replace('$', '\\$')}(?![\\w$])`).test(snippet.code))
  const specifiers = used.map((name) => (preamble.types.has(name) ? `type ${name}` : name))
  const header = used.length ? `import { ${specifiers.join(', ')} } from './preamble.js'\n` : ''
  // `export {}` keeps a block without imports a module (top-level await, no global names).
  return { text: `${header}export {}\n${snippet.code}\n`, headerLines: header ? 2 : 1 }
}
