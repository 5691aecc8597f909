import type { Status } from '../api/types'

/** A /v1/status answer as docs/api.md describes it. */
export const STATUS: Status = {
  model: { id: 'qwen2.5-coder-0.5b', path: '/models/q.gguf', n_ctx: 4096, fim: true, family: 'qwen2.5-coder', loaded: true, error: null },
  uptime_s: 3725,
  memory: { rss_bytes: 734003200, available_bytes: 8 * 1024 ** 3, total_bytes: 16 * 1024 ** 3 },
  queue_depth: 2,
  requests_total: 57,
  requests_per_minute: 12.5,
  tokens_per_second: 54.2,
  latency_ms: { p50: 450, p95: 1730 },
  cache: { enabled: true, entries: 10, hits: 30, misses: 10, hit_rate: 0.75, typeahead_hits: 5 },
  feedback: { views: 10, accepts: 4, dismisses: 6, acceptance_rate: 0.4 },
  backends: [
    { name: 'embedded', url: '', healthy: true, latency_ms: 12, in_flight: 1 },
    { name: 'gpu-box', url: 'http://10.0.0.2:8080', healthy: false, latency_ms: null, in_flight: 0 },
  ],
}
