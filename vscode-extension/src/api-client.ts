/**
 * HTTP client for the Pylot server (docs/api.md): completions, chat, status, feedback events and config.
 * Every call can be aborted through an AbortSignal and has its own timeout; failures come out as one of
 * three errors so that callers can tell "the user typed on" from "the server is down" from "the server said no".
 */

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface CompletionRequest {
  prompt: string;
  suffix?: string;
  max_tokens: number;
  temperature: number;
  stop?: string[];
  /** The document's language id (VS Code's, e.g. `python`). */
  language?: string;
}

export interface CompletionResult {
  id: string;
  text: string;
  finishReason: string | null;
  /** Measured here, request to answer. */
  latencyMs: number;
  /** What the server reports in `pylot.latency_ms`, when it does. */
  serverLatencyMs?: number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatOptions {
  max_tokens: number;
  temperature: number;
  stop?: string[];
}

export interface ChatResult {
  id: string;
  content: string;
  finishReason: string | null;
  latencyMs: number;
}

export type FeedbackKind = 'view' | 'accept' | 'dismiss';

export interface FeedbackEvent {
  completion_id: string;
  event: FeedbackKind;
  language?: string;
  latency_ms?: number;
}

/** `GET /v1/status`; only the fields the extension shows are typed, the rest passes through. */
export interface ServerStatus {
  model?: { id?: string; n_ctx?: number; fim?: boolean; loaded?: boolean };
  uptime_s?: number;
  queue_depth?: number;
  requests_total?: number;
  tokens_per_second?: number;
  latency_ms?: { p50?: number; p95?: number };
  cache?: { hit_rate?: number; entries?: number };
  feedback?: { views?: number; accepts?: number; dismisses?: number; acceptance_rate?: number };
  backends?: { name?: string; url?: string; healthy?: boolean; latency_ms?: number }[];
  [key: string]: unknown;
}

/** The caller aborted the request (the user typed on); not a failure. */
export class RequestCancelledError extends Error {
  constructor() {
    super('request cancelled');
    this.name = 'RequestCancelledError';
  }
}

/** No answer: connection refused, DNS, reset, or no answer within the timeout. */
export class ServerUnreachableError extends Error {
  constructor(message: string, readonly timedOut: boolean) {
    super(message);
    this.name = 'ServerUnreachableError';
  }
}

/** The server answered with an error status (its OpenAI-shaped body, when there is one, is parsed). */
export class ServerApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly type?: string,
    readonly param?: string,
  ) {
    super(message);
    this.name = 'ServerApiError';
  }
}

export interface PylotClientOptions {
  /** Base URL, read on every call so that a settings change applies at once. */
  baseUrl: () => string;
  apiKey: () => Promise<string | undefined>;
  timeoutMs: () => number;
  /** Identifies this editor window: the server lets a newer completion cancel an older one still running. */
  sessionId?: () => string;
  fetch?: FetchLike;
  now?: () => number;
}

export class PylotClient {
  private readonly fetchFn: FetchLike;
  private readonly now: () => number;

  constructor(private readonly options: PylotClientOptions) {
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
    this.now = options.now ?? (() => Date.now());
  }

  async complete(request: CompletionRequest, signal?: AbortSignal): Promise<CompletionResult> {
    const started = this.now();
    const body = await this.request<CompletionBody>('POST', '/v1/completions', request, signal);
    const choice = body?.choices?.[0];
    if (!body || typeof choice?.text !== 'string') {
      throw new ServerApiError('the completion answer has no choices[0].text', 200, 'invalid_response');
    }
    return {
      id: String(body.id ?? ''),
      text: choice.text,
      finishReason: choice.finish_reason ?? null,
      latencyMs: this.now() - started,
      serverLatencyMs: body.pylot?.latency_ms,
    };
  }

  async chat(messages: ChatMessage[], options: ChatOptions, signal?: AbortSignal): Promise<ChatResult> {
    const started = this.now();
    const body = await this.request<ChatBody>(
      'POST',
      '/v1/chat/completions',
      { messages, ...options, stream: false },
      signal,
      // Chat answers are long; the completion timeout is for keystrokes.
      Math.max(this.options.timeoutMs(), 120_000),
    );
    const choice = body?.choices?.[0];
    if (!body || typeof choice?.message?.content !== 'string') {
      throw new ServerApiError('the chat answer has no choices[0].message.content', 200, 'invalid_response');
    }
    return {
      id: String(body.id ?? ''),
      content: choice.message.content,
      finishReason: choice.finish_reason ?? null,
      latencyMs: this.now() - started,
    };
  }

  async status(signal?: AbortSignal): Promise<ServerStatus> {
    return (await this.request<ServerStatus>('GET', '/v1/status', undefined, signal)) ?? {};
  }

  /** `GET /health`; resolves with the round-trip time in ms. */
  async health(signal?: AbortSignal): Promise<number> {
    const started = this.now();
    await this.request('GET', '/health', undefined, signal, 5000);
    return this.now() - started;
  }

  async sendEvent(event: FeedbackEvent): Promise<void> {
    await this.request('POST', '/v1/events', event, undefined, 10_000);
  }

  async patchConfig(patch: Record<string, unknown>): Promise<unknown> {
    return this.request('PATCH', '/v1/config', patch, undefined, 15_000);
  }

  private async request<T>(
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    timeoutMs = this.options.timeoutMs(),
  ): Promise<T | undefined> {
    if (signal?.aborted) {
      throw new RequestCancelledError();
    }
    const base = this.options.baseUrl();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
      }
      const key = await this.options.apiKey();
      if (key) {
        headers.authorization = `Bearer ${key}`;
      }
      const session = this.options.sessionId?.();
      if (session) {
        headers['x-pylot-session'] = session;
      }
      let status: number;
      let text: string;
      try {
        const response = await this.fetchFn(base + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: controller.signal,
        });
        status = response.status;
        text = await response.text();
      } catch (err) {
        if (signal?.aborted) {
          throw new RequestCancelledError();
        }
        if (timedOut) {
          throw new ServerUnreachableError(`no answer from ${base} within ${timeoutMs} ms`, true);
        }
        throw new ServerUnreachableError(`cannot reach ${base}: ${describeNetworkError(err)}`, false);
      }
      if (status < 200 || status >= 300) {
        throw apiError(status, text);
      }
      if (!text) {
        return undefined;
      }
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new ServerApiError(`${method} ${path} answered with something that is not JSON`, status, 'invalid_response');
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

interface CompletionBody {
  id?: string;
  choices?: { text?: string; finish_reason?: string | null }[];
  pylot?: { latency_ms?: number };
}

interface ChatBody {
  id?: string;
  choices?: { message?: { content?: string }; finish_reason?: string | null }[];
}

function apiError(status: number, text: string): ServerApiError {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string; type?: string; param?: string } };
    if (parsed.error?.message) {
      return new ServerApiError(parsed.error.message, status, parsed.error.type, parsed.error.param ?? undefined);
    }
  } catch {
    // not JSON: fall through to a message built from the status alone
  }
  return new ServerApiError(`the server answered HTTP ${status}`, status);
}

function describeNetworkError(err: unknown): string {
  // Node's fetch hides the useful part (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
