// The live-view browser runtime, for apps that bundle their own scripts (otherwise the page loads it
// from the server: `endpoint.script`).
export { startLiveViews, connectLiveView, type LiveViewHandle, type LiveViewMessage, type LiveViewRuntimeOptions, type LiveViewStatus } from './runtime.js'
