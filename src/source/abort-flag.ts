// Whether a signal has aborted, for loops that ask once or more per delivered event: Node's
// `signal.aborted` getter runs a brand check each time (validateThisAbortSignal), a measurable share of a
// change's CPU in the fan-out profile; one listener and a closure read cost nothing.
export function abortedFlag(signal: AbortSignal | undefined): () => boolean {
  if (!signal) return () => false
  let aborted = signal.aborted
  if (!aborted) signal.addEventListener('abort', () => { aborted = true }, { once: true })
  return () => aborted
}
