// Which of many terms a text starts with, ends with, or contains, in time ~ the text's length plus the
// terms found, however many terms there are. Terms and texts are compared code unit by code unit, as
// `like()` compares literals, so a term is reported exactly when it is a prefix / suffix / substring of
// the text. Each term carries a set of values (the shapes requiring it); `visit` gets every value of
// every term found, once per term.

interface TrieNode<V> {
  readonly children: Map<number, TrieNode<V>>
  values: Set<V> | undefined
  /** Aho-Corasick: the node of the longest proper suffix of this node's string that is in the trie. */
  fail?: TrieNode<V>
  /** Aho-Corasick: the nearest node along `fail` links that ends a term. */
  output?: TrieNode<V>
}

const newNode = <V>(): TrieNode<V> => ({ children: new Map(), values: undefined })

/** Terms a text starts with (or, with `fromEnd`, ends with): a trie walked along the text. */
export class AnchoredTermIndex<V> {
  private readonly root = newNode<V>()
  private count = 0

  constructor(private readonly fromEnd: boolean) {}

  get size(): number {
    return this.count
  }

  add(term: string, value: V): void {
    let node = this.root
    for (let k = 0; k < term.length; k++) {
      const c = term.charCodeAt(this.fromEnd ? term.length - 1 - k : k)
      let next = node.children.get(c)
      if (!next) node.children.set(c, (next = newNode()))
      node = next
    }
    node.values ??= new Set()
    if (!node.values.has(value)) this.count++
    node.values.add(value)
  }

  remove(term: string, value: V): void {
    const path: TrieNode<V>[] = [this.root]
    for (let k = 0; k < term.length; k++) {
      const next = path[k]!.children.get(term.charCodeAt(this.fromEnd ? term.length - 1 - k : k))
      if (!next) return
      path.push(next)
    }
    const node = path[path.length - 1]!
    if (!node.values?.delete(value)) return
    this.count--
    if (node.values.size === 0) node.values = undefined
    // Prune the branch no term needs any more, so added and removed terms leave nothing behind.
    for (let k = term.length; k > 0; k--) {
      const n = path[k]!
      if (n.values || n.children.size) break
      path[k - 1]!.children.delete(term.charCodeAt(this.fromEnd ? term.length - k : k - 1))
    }
  }

  match(text: string, visit: (value: V) => void): void {
    let node: TrieNode<V> | undefined = this.root
    for (let k = 0; node; k++) {
      if (node.values) for (const v of node.values) visit(v)
      if (k === text.length) return
      node = node.children.get(text.charCodeAt(this.fromEnd ? text.length - 1 - k : k))
    }
  }
}

/** Terms rebuilt into the automaton once this many wait outside it (they are searched one by one). */
const PENDING_LIMIT = 64

/**
 * Terms a text contains: an Aho-Corasick automaton over the terms, rebuilt lazily. A term added since the
 * last build waits in `pending` (searched with `includes`) until PENDING_LIMIT of them do, or until
 * removals left as many dead terms in the automaton as live ones, so a burst of additions costs one build.
 */
export class SubstringTermIndex<V> {
  /** Every live term: its values, and whether the automaton has it. */
  private readonly terms = new Map<string, { readonly values: Set<V>; built: boolean }>()
  private readonly pending = new Set<string>()
  private root: TrieNode<V> = newNode()
  private builtLive = 0
  private builtDead = 0
  private count = 0

  get size(): number {
    return this.count
  }

  add(term: string, value: V): void {
    let entry = this.terms.get(term)
    if (!entry) {
      this.terms.set(term, (entry = { values: new Set(), built: false }))
      this.pending.add(term)
    }
    if (!entry.values.has(value)) this.count++
    entry.values.add(value)
  }

  remove(term: string, value: V): void {
    const entry = this.terms.get(term)
    if (!entry?.values.delete(value)) return
    this.count--
    if (entry.values.size > 0) return
    this.terms.delete(term)
    if (!entry.built) this.pending.delete(term)
    else {
      this.builtLive--
      this.builtDead++
    }
  }

  match(text: string, visit: (value: V) => void): void {
    if (this.pending.size > PENDING_LIMIT || this.builtDead > Math.max(this.builtLive, PENDING_LIMIT)) this.build()
    for (const term of this.pending) {
      if (text.includes(term)) for (const v of this.terms.get(term)!.values) visit(v)
    }
    if (this.builtLive === 0) return
    const root = this.root
    let node = root
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      let next = node.children.get(c)
      while (!next && node !== root) {
        node = node.fail!
        next = node.children.get(c)
      }
      node = next ?? root
      for (let out: TrieNode<V> | undefined = node.values ? node : node.output; out; out = out.output) {
        // A dead term's set is empty (its entry left `terms`); it stays in the trie until the next build.
        for (const v of out.values!) visit(v)
      }
    }
  }

  /** A new automaton over the live terms (the trie, then failure and output links breadth first). */
  private build(): void {
    const root = newNode<V>()
    for (const [term, entry] of this.terms) {
      let node = root
      for (let k = 0; k < term.length; k++) {
        const c = term.charCodeAt(k)
        let next = node.children.get(c)
        if (!next) node.children.set(c, (next = newNode()))
        node = next
      }
      node.values = entry.values // shared: values added to a built term are seen without a rebuild
      entry.built = true
    }
    const queue: TrieNode<V>[] = []
    for (const child of root.children.values()) {
      child.fail = root
      queue.push(child)
    }
    for (let q = 0; q < queue.length; q++) {
      const node = queue[q]!
      for (const [c, child] of node.children) {
        let f = node.fail!
        while (f !== root && !f.children.has(c)) f = f.fail!
        const target = f.children.get(c)
        child.fail = target && target !== child ? target : root
        child.output = child.fail.values ? child.fail : child.fail.output
        queue.push(child)
      }
    }
    this.root = root
    this.pending.clear()
    this.builtLive = this.terms.size
    this.builtDead = 0
  }
}
