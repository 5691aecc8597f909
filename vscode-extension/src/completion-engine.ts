/**
 * From "the cursor is here" to "show this": the cache first, then the adaptive pause, then one request
 * (aborting the one before it). The server decides between a line and a block and cuts the suggestion, so
 * that every editor gets the same suggestions; what it answers is shown as it is. Knows nothing of VS Code.
 */
import { CompletionRequest, CompletionResult, RequestCancelledError, ServerApiError } from './api-client';
import { AdaptiveDebounce } from './adaptive-debounce';
import { CursorText, PREFIX_CHARS, SUFFIX_CHARS, buildPromptWindow } from './completion-context';
import { Logger } from './logger';
import { SuggestionCache } from './suggestion-cache';

export interface CompletionQuery {
  /** Identifies the document (its URI). */
  document: string;
  offset: number;
  languageId: string;
  text: CursorText;
}

export interface Suggestion {
  id: string;
  text: string;
  fromCache: boolean;
}

export interface CompletionBackend {
  complete(request: CompletionRequest, signal?: AbortSignal): Promise<CompletionResult>;
}

/** Told about each request to the server, for the status bar. */
export interface RequestObserver {
  started(): void;
  succeeded(latencyMs: number): void;
  failed(error: Error): void;
  cancelled(): void;
}

export interface GenerationOptions {
  maxTokens: number;
  temperature: number;
}

export interface CompletionEngineDeps {
  backend: CompletionBackend;
  cache: SuggestionCache;
  debounce: AdaptiveDebounce;
  options: () => GenerationOptions;
  observer: RequestObserver;
  log: Logger;
}

export class CompletionEngine {
  private inflight: AbortController | undefined;
  /** Whether the last request failed: only the first failure of a run is a warning, the rest are debug. */
  private failing = false;

  constructor(private readonly deps: CompletionEngineDeps) {}

  /** What the cache already has for the cursor; never asks the server. */
  peek(query: CompletionQuery): Suggestion | undefined {
    const hit = this.deps.cache.get(cacheKey(query));
    return hit && { ...hit, fromCache: true };
  }

  /** A suggestion for the cursor, or undefined (nothing to show, cancelled, or the server failed). */
  async suggest(query: CompletionQuery, signal: AbortSignal): Promise<Suggestion | undefined> {
    const { backend, cache, debounce, observer, log } = this.deps;
    const key = cacheKey(query);
    const hit = cache.get(key);
    if (hit) {
      log.debug(`completion ${hit.id}: served from the cache (${hit.text.length} chars)`);
      return { ...hit, fromCache: true };
    }
    if (!(await debounce.wait(signal))) {
      return undefined;
    }
    // A newer keystroke supersedes the request in flight even before VS Code cancels it.
    this.inflight?.abort();
    const controller = new AbortController();
    this.inflight = controller;
    const onAbort = () => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });

    const window = buildPromptWindow(query.text);
    const options = this.deps.options();
    observer.started();
    try {
      const result = await backend.complete(
        {
          prompt: window.prompt,
          suffix: window.suffix,
          max_tokens: options.maxTokens,
          temperature: options.temperature,
          // The server checks Python suggestions by parsing the file with them.
          language: query.languageId,
        },
        controller.signal,
      );
      debounce.recordLatency(result.latencyMs);
      observer.succeeded(result.latencyMs);
      this.failing = false;
      if (result.finishReason === 'cancelled') {
        return undefined;
      }
      const text = result.text;
      log.debug(`completion ${result.id}: ${result.latencyMs} ms, ${text.length} chars`);
      // Ghost text of nothing but whitespace cannot be seen, and must not count as a suggestion shown.
      if (!text.trim()) {
        return undefined;
      }
      cache.put(key, { id: result.id, text });
      return signal.aborted ? undefined : { id: result.id, text, fromCache: false };
    } catch (err) {
      if (err instanceof RequestCancelledError || isServerSideCancel(err)) {
        observer.cancelled();
        return undefined;
      }
      const error = err instanceof Error ? err : new Error(String(err));
      observer.failed(error);
      (this.failing ? log.debug : log.warn).call(log, `completion request failed: ${error.message}`);
      this.failing = true;
      return undefined;
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (this.inflight === controller) {
        this.inflight = undefined;
      }
    }
  }

  /** Abort the request in flight, if any (completions switched off, extension going away). */
  cancel(): void {
    this.inflight?.abort();
  }
}

function cacheKey(query: CompletionQuery) {
  return {
    document: query.document,
    offset: query.offset,
    before: query.text.before.slice(-PREFIX_CHARS),
    after: query.text.after.slice(0, SUFFIX_CHARS),
  };
}

function isServerSideCancel(err: unknown): boolean {
  return err instanceof ServerApiError && (err.status === 409 || err.type === 'cancelled');
}
