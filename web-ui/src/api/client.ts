import { readSse } from './sse'
import type {
  ApiErrorBody,
  Catalog,
  Completion,
  CompletionRequest,
  Config,
  JsonSchema,
  ListOf,
  LogList,
  LogRecord,
  ModelEntry,
  PullEvent,
  Status,
} from './types'

export const KEY_STORAGE = 'pylot.apiKey'

/** An error answer of the server, with the fields of its OpenAI-shaped body. */
export class ApiError extends Error {
  readonly status: number
  readonly type: string
  readonly code: string | null
  readonly param: string | null

  constructor(status: number, body: Partial<ApiErrorBody['error']>) {
    super(body.message || `HTTP ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.type = body.type ?? 'error'
    this.code = body.code ?? null
    this.param = body.param ?? null
  }

  /** The route does not exist on this server (yet): pages show the feature as unavailable. */
  get unavailable(): boolean {
    return this.status === 404 || this.status === 405 || this.status === 501
  }
}

export interface ClientOptions {
  baseUrl?: string
  fetch?: typeof fetch
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>
}

type Listener = () => void

/** The console's only way to the server: adds the API key, turns error bodies into `ApiError`. */
export class ApiClient {
  private readonly baseUrl: string
  private readonly fetchImpl: typeof fetch
  private readonly storage: ClientOptions['storage']
  private readonly unauthorizedListeners = new Set<Listener>()

  constructor(options: ClientOptions = {}) {
    this.baseUrl = options.baseUrl ?? ''
    // Bound, or browsers throw "Illegal invocation" when it is called as a method.
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis)
    this.storage = options.storage ?? (typeof sessionStorage === 'undefined' ? undefined : sessionStorage)
  }

  get apiKey(): string | null {
    return this.storage?.getItem(KEY_STORAGE) ?? null
  }

  set apiKey(key: string | null) {
    if (key) this.storage?.setItem(KEY_STORAGE, key)
    else this.storage?.removeItem(KEY_STORAGE)
  }

  /** Called whenever the server answers 401; returns the function that unsubscribes. */
  onUnauthorized(listener: Listener): () => void {
    this.unauthorizedListeners.add(listener)
    return () => this.unauthorizedListeners.delete(listener)
  }

  private async send(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (body !== undefined) headers.set('Content-Type', 'application/json')
    const key = this.apiKey
    if (key) headers.set('Authorization', `Bearer ${key}`)
    const response = await this.fetchImpl(this.baseUrl + path, {
      ...init,
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    if (!response.ok) throw await this.errorOf(response)
    return response
  }

  private async errorOf(response: Response): Promise<ApiError> {
    let detail: Partial<ApiErrorBody['error']> = {}
    try {
      const parsed = (await response.json()) as Partial<ApiErrorBody> & { detail?: unknown }
      if (parsed.error && typeof parsed.error === 'object') detail = parsed.error
      else if (typeof parsed.detail === 'string') detail = { message: parsed.detail }
    } catch {
      // Not JSON (a proxy's page, an empty body): the status says enough.
    }
    if (response.status === 401) this.unauthorizedListeners.forEach((listener) => listener())
    return new ApiError(response.status, detail)
  }

  async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.send(method, path, body, { signal })
    if (response.status === 204) return undefined as T
    return (await response.json()) as T
  }

  /** Send a request whose answer is an event stream; yields each event's `data` parsed as JSON. */
  async *events<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): AsyncGenerator<T> {
    const response = await this.send(method, path, body, {
      signal,
      headers: { Accept: 'text/event-stream' },
    })
    const type = response.headers.get('Content-Type') ?? ''
    if (!type.includes('text/event-stream') || !response.body) {
      // A server may answer a finished job with plain JSON instead of a stream.
      yield (await response.json()) as T
      return
    }
    for await (const event of readSse(response.body)) {
      if (event.data === '[DONE]') return
      try {
        yield JSON.parse(event.data) as T
      } catch {
        // Not JSON: not an event this console knows.
      }
    }
  }

  status(signal?: AbortSignal): Promise<Status> {
    return this.json('GET', '/v1/status', undefined, signal)
  }

  config(): Promise<Config> {
    return this.json('GET', '/v1/config')
  }

  configSchema(): Promise<JsonSchema> {
    return this.json('GET', '/v1/config/schema')
  }

  /** Partial update of one section; answers the whole new configuration. */
  patchConfig(section: string, values: Record<string, unknown>): Promise<Config> {
    return this.json('PATCH', '/v1/config', { [section]: values })
  }

  complete(request: CompletionRequest, signal?: AbortSignal): Promise<Completion> {
    return this.json('POST', '/v1/completions', { ...request, stream: false }, signal)
  }

  models(): Promise<ListOf<ModelEntry>> {
    return this.json('GET', '/v1/models')
  }

  catalog(): Promise<Catalog> {
    return this.json('GET', '/v1/models/catalog')
  }

  pullModel(id: string, signal?: AbortSignal): AsyncGenerator<PullEvent> {
    return this.events<PullEvent>('POST', '/v1/models/pull', { id }, signal)
  }

  loadModel(id: string): Promise<unknown> {
    return this.json('POST', '/v1/models/load', { id })
  }

  deleteModel(id: string): Promise<unknown> {
    return this.json('DELETE', `/v1/models/${encodeURIComponent(id)}`)
  }

  quantizeModel(id: string, type: string): Promise<unknown> {
    return this.json('POST', '/v1/models/quantize', { id, type })
  }

  logs(query: { level?: string; q?: string; limit?: number } = {}): Promise<LogList> {
    const params = new URLSearchParams()
    if (query.level) params.set('level', query.level)
    if (query.q) params.set('q', query.q)
    if (query.limit) params.set('limit', String(query.limit))
    const qs = params.toString()
    return this.json('GET', `/v1/logs${qs ? `?${qs}` : ''}`)
  }

  /** Live records after `since` (a seq); ends when `signal` aborts. */
  streamLogs(since: number, signal?: AbortSignal): AsyncGenerator<LogRecord> {
    return this.events<LogRecord>('GET', `/v1/logs/stream?since=${since}`, undefined, signal)
  }
}
