// Shapes of the Pylot HTTP API. The ones the server declares are its OpenAPI schema's, generated into
// ./schema.d.ts (`npm run gen:api`; `npm run typecheck` fails when that file is stale); the rest are
// written here from docs/api.md. Keep those in step with that file.
import type { components } from './schema'

type Schemas = components['schemas']

/** Every error body: `{"error": {...}}` with a 4xx/5xx status. */
export type ApiErrorBody = Schemas['Error']

/** Only `loaded` (and `error`) while no model is loaded. */
export type StatusModel = Schemas['ModelStatus']

export type StatusBackend = Schemas['BackendStatus']

export type Status = Schemas['Status']

export type CompletionRequest = Schemas['CompletionRequest']

export type Completion = Schemas['TextCompletion']

/** `GET /v1/models` entry. */
export type ModelEntry = Schemas['ModelCard']

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
export type Config = Schemas['ConfigSections']

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
