// Shapes of the Pylot HTTP API, written from docs/api.md. Keep them in step with that file.

/** Every error body: `{"error": {...}}` with a 4xx/5xx status. */
export interface ApiErrorBody {
  error: {
    message: string
    type: string
    code: string | null
    param: string | null
  }
}

/** Only `loaded` (and `error`) while no model is loaded. */
export interface StatusModel {
  id?: string
  path?: string | null
  n_ctx?: number
  fim?: boolean
  family?: string
  loaded: boolean
  error?: string | null
}

export interface StatusBackend {
  name: string
  /** null for the engine inside the server process. */
  url: string | null
  healthy: boolean
  latency_ms: number | null
  in_flight: number
}

export interface Status {
  model: StatusModel
  uptime_s: number
  memory: { rss_bytes: number; available_bytes: number; total_bytes: number }
  queue_depth: number
  requests_total: number
  requests_per_minute: number
  tokens_per_second: number
  latency_ms: { p50: number | null; p95: number | null }
  cache: { enabled: boolean; entries: number; hits: number; misses: number; hit_rate: number | null }
  feedback: { views: number; accepts: number; dismisses: number; acceptance_rate: number | null }
  backends: StatusBackend[]
}

export interface CompletionRequest {
  prompt: string
  suffix?: string
  max_tokens?: number
  temperature?: number
  top_p?: number
  top_k?: number
  stop?: string[]
  seed?: number
  stream?: false
}

export type FinishReason = 'stop' | 'length' | 'cancelled' | 'time_limit'

export interface Completion {
  id: string
  object: 'text_completion'
  created: number
  model: string
  choices: { index: number; text: string; finish_reason: FinishReason; logprobs: null }[]
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number }
  pylot: { cached: boolean; latency_ms: number; fim: boolean }
}

/** `GET /v1/models` entry. */
export interface ModelEntry {
  id: string
  object: 'model'
  created: number
  owned_by: string
  loaded: boolean
  meta: Record<string, unknown> | null
}

/** `GET /v1/models/catalog` entry: what can be pulled, what is installed, and whether it fits. */
export interface CatalogEntry {
  id: string
  family: string
  size_bytes: number
  installed: boolean
  loaded: boolean
  /** Estimate at the configured context; `fitting_n_ctx` is the largest context that fits, if known. */
  memory: { total_bytes: number; fits: boolean; n_ctx?: number; fitting_n_ctx?: number | null }
  description?: string
  quantization?: string
  fim?: boolean
  status?: string
}

export interface Catalog extends ListOf<CatalogEntry> {
  /** What `POST /v1/models/quantize` accepts as `type`. */
  quantization_types?: string[]
}

/** One server-sent event of `POST /v1/models/pull`: progress, then one with `done` (and `error` on failure). */
export interface PullEvent {
  downloaded?: number
  total?: number | null
  done?: boolean
  error?: string | ApiErrorBody['error']
  id?: string
  size_bytes?: number
}

export interface ListOf<T> {
  object: 'list'
  data: T[]
}

export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL'
export const LOG_LEVELS: LogLevel[] = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']

/** A record of `GET /v1/logs` and of the `log` events of `GET /v1/logs/stream`. */
export interface LogRecord {
  seq: number
  /** Unix time in seconds. */
  time: number
  level: LogLevel
  logger: string
  message: string
}

export interface LogList extends ListOf<LogRecord> {
  last_seq: number
  capacity: number
}

/** The configuration: sections of plain values, secrets masked as "***". */
export type Config = Record<string, Record<string, unknown>>

/** JSON Schema as pydantic writes it (the subset the settings form reads). */
export interface JsonSchema {
  type?: string | string[]
  title?: string
  description?: string
  default?: unknown
  enum?: unknown[]
  const?: unknown
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  format?: string
  writeOnly?: boolean
  items?: JsonSchema
  properties?: Record<string, JsonSchema>
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  $ref?: string
  $defs?: Record<string, JsonSchema>
  definitions?: Record<string, JsonSchema>
  additionalProperties?: boolean | JsonSchema
  readOnly?: boolean
  /** Pylot's own: the sections that apply without a restart. */
  'x-live-sections'?: string[]
}
