import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdaptiveDebounce } from '../adaptive-debounce';
import { CompletionRequest, CompletionResult, RequestCancelledError, ServerApiError, ServerUnreachableError } from '../api-client';
import { CompletionEngine, CompletionQuery, RequestObserver } from '../completion-engine';
import { SuggestionCache } from '../suggestion-cache';
import { RecordingLogger, deferred } from './helpers';

class FakeBackend {
  readonly requests: { request: CompletionRequest; signal?: AbortSignal }[] = [];
  answer: (request: CompletionRequest, signal?: AbortSignal) => Promise<CompletionResult> = async () => ({
    id: 'cmpl-1',
    text: 'a + b',
    finishReason: 'stop',
    latencyMs: 120,
  });

  complete(request: CompletionRequest, signal?: AbortSignal): Promise<CompletionResult> {
    this.requests.push({ request, signal });
    return this.answer(request, signal);
  }
}

class Events implements RequestObserver {
  readonly seen: string[] = [];
  started(): void {
    this.seen.push('started');
  }
  succeeded(latencyMs: number): void {
    this.seen.push(`succeeded ${latencyMs}`);
  }
  failed(error: Error): void {
    this.seen.push(`failed ${error.name}`);
  }
  cancelled(): void {
    this.seen.push('cancelled');
  }
}

function setup(sleep?: (ms: number, signal: AbortSignal) => Promise<void>) {
  const backend = new FakeBackend();
  const events = new Events();
  const sleeps: number[] = [];
  const debounce = new AdaptiveDebounce({
    baseMs: () => 100,
    sleep:
      sleep ??
      (async (ms) => {
        sleeps.push(ms);
      }),
  });
  const cache = new SuggestionCache();
  const log = new RecordingLogger();
  const engine = new CompletionEngine({
    backend,
    cache,
    debounce,
    options: () => ({ maxTokens: 48, temperature: 0.2 }),
    observer: events,
    log,
  });
  return { engine, backend, events, sleeps, cache, debounce, log };
}

const code = 'def add(a, b):\n    return ';
const query = (typed = ''): CompletionQuery => ({
  document: 'file:///calc.py',
  offset: code.length + typed.length,
  languageId: 'python',
  text: { before: code + typed, after: '\n' },
});
const signal = () => new AbortController().signal;

test('asks the server after the debounce and returns the cleaned suggestion', async () => {
  const { engine, backend, events, sleeps } = setup();
  const suggestion = await engine.suggest(query(), signal());
  assert.deepEqual(suggestion, { id: 'cmpl-1', text: 'a + b', fromCache: false });
  assert.deepEqual(sleeps, [100]);
  assert.deepEqual(backend.requests[0].request, {
    prompt: code,
    suffix: '\n',
    max_tokens: 48,
    temperature: 0.2,
    language: 'python',
  });
  assert.deepEqual(events.seen, ['started', 'succeeded 120']);
});

test('the server decides line or block and cuts the suggestion: its answer is shown as it is', async () => {
  const { engine, backend } = setup();
  // A block at a line boundary ends with the newline that keeps the code below on its own line.
  backend.answer = async () => ({ id: 'blk', text: '    total = a + b\n    return total\n', finishReason: 'stop', latencyMs: 5 });
  const suggestion = await engine.suggest(query(), signal());
  assert.equal(suggestion?.text, '    total = a + b\n    return total\n');
  assert.equal(backend.requests[0].request.stop, undefined, 'no client-side stop overrides the server');
});

test('typing along the suggestion is served from the cache: no debounce, no request', async () => {
  const { engine, backend, sleeps } = setup();
  await engine.suggest(query(), signal());
  const next = await engine.suggest(query('a +'), signal());
  assert.deepEqual(next, { id: 'cmpl-1', text: ' b', fromCache: true });
  assert.equal(backend.requests.length, 1);
  assert.equal(sleeps.length, 1);
  assert.deepEqual(engine.peek(query('a')), { id: 'cmpl-1', text: ' + b', fromCache: true });
});

test('the latency of each answer feeds the debounce', async () => {
  const { engine, backend, debounce } = setup();
  backend.answer = async () => ({ id: 'x', text: 'y', finishReason: 'stop', latencyMs: 2000 });
  await engine.suggest(query(), signal());
  assert.equal(debounce.latencyMs, 2000);
  assert.ok(debounce.delayMs() > 100);
});

test('a keystroke during the debounce means no request at all', async () => {
  const controller = new AbortController();
  const { engine, backend } = setup(
    (_ms, s) =>
      new Promise((_resolve, reject) => {
        s.addEventListener('abort', () => reject(new Error('aborted')));
      }),
  );
  const pending = engine.suggest(query(), controller.signal);
  controller.abort();
  assert.equal(await pending, undefined);
  assert.equal(backend.requests.length, 0);
});

test('cancelling the token aborts the request in flight', async () => {
  const { engine, backend, events } = setup();
  backend.answer = (_request, s) =>
    new Promise((_resolve, reject) => s?.addEventListener('abort', () => reject(new RequestCancelledError())));
  const controller = new AbortController();
  const pending = engine.suggest(query(), controller.signal);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(backend.requests.length, 1);
  controller.abort();
  assert.equal(await pending, undefined);
  assert.equal(backend.requests[0].signal?.aborted, true);
  assert.deepEqual(events.seen, ['started', 'cancelled']);
});

test('a newer request aborts the older one even before VS Code cancels it', async () => {
  const { engine, backend } = setup();
  const first = deferred<CompletionResult>();
  backend.answer = (_request, s) => {
    s?.addEventListener('abort', () => first.reject(new RequestCancelledError()));
    return first.promise;
  };
  const older = engine.suggest(query(), signal());
  await new Promise((resolve) => setImmediate(resolve));
  backend.answer = async () => ({ id: 'cmpl-2', text: 'b', finishReason: 'stop', latencyMs: 10 });
  const newer = await engine.suggest(query('a + '), signal());
  assert.equal(await older, undefined);
  assert.equal(backend.requests[0].signal?.aborted, true);
  assert.deepEqual(newer, { id: 'cmpl-2', text: 'b', fromCache: false });
});

test('an answer that arrives after the user moved on is still cached for the next keystroke', async () => {
  const { engine, backend, cache } = setup();
  const answer = deferred<CompletionResult>();
  backend.answer = () => answer.promise;
  const controller = new AbortController();
  const pending = engine.suggest(query(), controller.signal);
  await new Promise((resolve) => setImmediate(resolve));
  // The server answered just as the token was cancelled (the fetch had already completed).
  answer.resolve({ id: 'cmpl-3', text: 'a * b', finishReason: 'stop', latencyMs: 5 });
  controller.abort();
  assert.equal(await pending, undefined);
  assert.equal(cache.size, 1);
});

test('a server that is down: undefined, the observer hears of it, a warning without code in the log', async () => {
  const { engine, backend, events, log } = setup();
  backend.answer = async () => {
    throw new ServerUnreachableError('cannot reach http://x: ECONNREFUSED', false);
  };
  assert.equal(await engine.suggest(query(), signal()), undefined);
  assert.deepEqual(events.seen, ['started', 'failed ServerUnreachableError']);
  await engine.suggest(query('a'), signal());
  assert.equal(log.at('warn').length, 1, 'one warning per outage, not one per keystroke');
  assert.ok(!log.lines.some((l) => l.message.includes('return')), 'the user code must not be logged');
});

test('a request the server cancelled (409) is a cancellation, not an error', async () => {
  const { engine, backend, events } = setup();
  backend.answer = async () => {
    throw new ServerApiError('superseded', 409, 'cancelled');
  };
  assert.equal(await engine.suggest(query(), signal()), undefined);
  assert.deepEqual(events.seen, ['started', 'cancelled']);
});

test('empty or cancelled generations show nothing and are not cached', async () => {
  const { engine, backend, cache } = setup();
  backend.answer = async () => ({ id: 'e', text: '   \n', finishReason: 'stop', latencyMs: 5 });
  assert.equal(await engine.suggest(query(), signal()), undefined);
  backend.answer = async () => ({ id: 'c', text: 'a', finishReason: 'cancelled', latencyMs: 5 });
  assert.equal(await engine.suggest(query(), signal()), undefined);
  assert.equal(cache.size, 0);
});
