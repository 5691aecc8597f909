import assert from 'node:assert/strict';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import {
  FetchLike,
  PylotClient,
  RequestCancelledError,
  ServerApiError,
  ServerUnreachableError,
} from '../api-client';

const completionBody = {
  id: 'cmpl-1',
  object: 'text_completion',
  choices: [{ index: 0, text: ' a + b', finish_reason: 'stop', logprobs: null }],
  pylot: { cached: false, latency_ms: 42, fim: true },
};

function jsonResponse(status: number, body: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

function client(fetchFn: FetchLike, options: { key?: string; timeoutMs?: number; baseUrl?: string } = {}) {
  return new PylotClient({
    baseUrl: () => options.baseUrl ?? 'http://pylot.test',
    apiKey: async () => options.key,
    timeoutMs: () => options.timeoutMs ?? 5000,
    fetch: fetchFn,
  });
}

test('complete posts the request and reads the first choice', async () => {
  const calls: { url: string; init: RequestInit }[] = [];
  const c = client(
    async (url, init) => {
      calls.push({ url, init });
      return jsonResponse(200, completionBody);
    },
    { key: 'secret' },
  );
  const result = await c.complete({ prompt: 'return', suffix: '\n', max_tokens: 16, temperature: 0, stop: ['\n'] });
  assert.equal(result.id, 'cmpl-1');
  assert.equal(result.text, ' a + b');
  assert.equal(result.finishReason, 'stop');
  assert.equal(result.serverLatencyMs, 42);
  assert.equal(calls[0].url, 'http://pylot.test/v1/completions');
  assert.equal(calls[0].init.method, 'POST');
  const headers = calls[0].init.headers as Record<string, string>;
  assert.equal(headers.authorization, 'Bearer secret');
  assert.deepEqual(JSON.parse(String(calls[0].init.body)), {
    prompt: 'return',
    suffix: '\n',
    max_tokens: 16,
    temperature: 0,
    stop: ['\n'],
  });
});

test('no API key, no authorization header', async () => {
  let headers: Record<string, string> = {};
  const c = client(async (_url, init) => {
    headers = init.headers as Record<string, string>;
    return jsonResponse(200, completionBody);
  });
  await c.complete({ prompt: 'x', max_tokens: 1, temperature: 0 });
  assert.equal(headers.authorization, undefined);
});

test('an OpenAI-shaped error becomes a ServerApiError with its type and param', async () => {
  const c = client(async () =>
    jsonResponse(400, { error: { message: 'temperature too high', type: 'invalid_request_error', param: 'temperature', code: null } }),
  );
  await assert.rejects(c.complete({ prompt: 'x', max_tokens: 1, temperature: 9 }), (err: unknown) => {
    assert.ok(err instanceof ServerApiError);
    assert.equal(err.status, 400);
    assert.equal(err.type, 'invalid_request_error');
    assert.equal(err.param, 'temperature');
    assert.equal(err.message, 'temperature too high');
    return true;
  });
});

test('an error without a JSON body still says the status', async () => {
  const c = client(async () => new Response('Bad Gateway', { status: 502 }));
  await assert.rejects(c.status(), /HTTP 502/);
});

test('an answer that is not JSON, or has no choices, is a ServerApiError', async () => {
  await assert.rejects(client(async () => new Response('<html>', { status: 200 })).status(), ServerApiError);
  await assert.rejects(
    client(async () => jsonResponse(200, { id: 'x', choices: [] })).complete({ prompt: '', max_tokens: 1, temperature: 0 }),
    ServerApiError,
  );
});

test('connection refused is ServerUnreachableError naming the cause', async () => {
  const c = client(async () => {
    throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });
  });
  await assert.rejects(c.health(), (err: unknown) => {
    assert.ok(err instanceof ServerUnreachableError);
    assert.equal(err.timedOut, false);
    assert.match(err.message, /ECONNREFUSED/);
    return true;
  });
});

test('events answer 204 with no body', async () => {
  let body: unknown;
  const c = client(async (_url, init) => {
    body = JSON.parse(String(init.body));
    return new Response(null, { status: 204 });
  });
  await c.sendEvent({ completion_id: 'cmpl-1', event: 'accept', language: 'python' });
  assert.deepEqual(body, { completion_id: 'cmpl-1', event: 'accept', language: 'python' });
});

test('chat reads the message content and asks for a non-streamed answer', async () => {
  let body: Record<string, unknown> = {};
  const c = client(async (_url, init) => {
    body = JSON.parse(String(init.body));
    return jsonResponse(200, { id: 'chat-1', choices: [{ message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }] });
  });
  const result = await c.chat([{ role: 'user', content: 'hello' }], { max_tokens: 8, temperature: 0, stop: ['x'] });
  assert.equal(result.content, 'Hi');
  assert.equal(body.stream, false);
  assert.deepEqual(body.stop, ['x']);
});

// The same client against a real HTTP server, so that abort and timeout go through Node's own fetch.
let server: http.Server;
let baseUrl = '';
const hanging = new Set<http.ServerResponse>();

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/v1/completions') {
      hanging.add(res); // never answers: the client must give up by itself
      return;
    }
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"no such route","type":"not_found_error"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const res of hanging) {
    res.destroy();
  }
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('real HTTP: aborting the signal cancels the request in flight', async () => {
  const c = new PylotClient({ baseUrl: () => baseUrl, apiKey: async () => undefined, timeoutMs: () => 10_000 });
  const controller = new AbortController();
  const started = Date.now();
  const pending = c.complete({ prompt: 'x', max_tokens: 1, temperature: 0 }, controller.signal);
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(pending, RequestCancelledError);
  assert.ok(Date.now() - started < 5000);
});

test('real HTTP: no answer within the timeout is ServerUnreachableError(timedOut)', async () => {
  const c = new PylotClient({ baseUrl: () => baseUrl, apiKey: async () => undefined, timeoutMs: () => 100 });
  await assert.rejects(c.complete({ prompt: 'x', max_tokens: 1, temperature: 0 }), (err: unknown) => {
    assert.ok(err instanceof ServerUnreachableError);
    assert.equal(err.timedOut, true);
    return true;
  });
});

test('real HTTP: health measures the round trip; 404 is a ServerApiError', async () => {
  const c = new PylotClient({ baseUrl: () => baseUrl, apiKey: async () => undefined, timeoutMs: () => 2000 });
  assert.ok((await c.health()) >= 0);
  await assert.rejects(c.status(), (err: unknown) => err instanceof ServerApiError && err.status === 404);
});

test('real HTTP: a closed port is ServerUnreachableError', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const c = new PylotClient({ baseUrl: () => `http://127.0.0.1:${port}`, apiKey: async () => undefined, timeoutMs: () => 2000 });
  await assert.rejects(c.health(), (err: unknown) => err instanceof ServerUnreachableError && !err.timedOut);
});

test('the editor session goes along so the server can cancel superseded completions', async () => {
  let headers: Record<string, string> = {};
  const c = new PylotClient({
    baseUrl: () => 'http://pylot.test',
    apiKey: async () => undefined,
    timeoutMs: () => 5000,
    sessionId: () => 'window-42',
    fetch: async (_url, init) => {
      headers = init.headers as Record<string, string>;
      return jsonResponse(200, completionBody);
    },
  });
  await c.complete({ prompt: 'x', suffix: '\n', max_tokens: 1, temperature: 0 });
  assert.equal(headers['x-pylot-session'], 'window-42');
});
