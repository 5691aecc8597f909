import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiKeyStore } from '../api-key-store';
import { ServerApiError, ServerUnreachableError } from '../api-client';
import { BackendSync, backendPatch } from '../backend-sync';
import { RefactorMenu, REFACTOR_CHOICES } from '../refactor-menu';
import { isLanguageEnabled, readSettings } from '../settings';
import { statusMarkdown, statusSummary } from '../status-report';
import { RecordingLogger } from './helpers';

function config(values: Record<string, unknown>) {
  return { get: <T>(key: string, fallback: T): T => (key in values ? (values[key] as T) : fallback) };
}

test('settings: defaults, trailing slashes trimmed, numbers clamped', () => {
  const s = readSettings(config({ serverUrl: 'http://localhost:9000/', maxTokens: 99999, temperature: -1, debounceMs: 'x' }));
  assert.equal(s.serverUrl, 'http://localhost:9000');
  assert.equal(s.maxTokens, 1024);
  assert.equal(s.temperature, 0);
  assert.equal(s.debounceMs, 0);
  const defaults = readSettings(config({}));
  assert.equal(defaults.serverUrl, 'http://localhost:8080');
  assert.deepEqual(defaults.enabledLanguages, ['*']);
  assert.equal(defaults.useExternalLlama, false);
});

test('enabledLanguages: *, exclusions and explicit ids', () => {
  assert.equal(isLanguageEnabled(['*'], 'python'), true);
  assert.equal(isLanguageEnabled(['*', '!markdown'], 'markdown'), false);
  assert.equal(isLanguageEnabled(['python', 'go'], 'go'), true);
  assert.equal(isLanguageEnabled(['python'], 'rust'), false);
});

function secrets(initial?: string) {
  const store = new Map<string, string>();
  if (initial) {
    store.set(ApiKeyStore.secretKey, initial);
  }
  let reads = 0;
  return {
    store,
    reads: () => reads,
    api: {
      get: async (k: string) => {
        reads++;
        return store.get(k);
      },
      store: async (k: string, v: string) => void store.set(k, v),
      delete: async (k: string) => void store.delete(k),
    },
  };
}

test('API key: secret storage first, the setting only as a fallback; read once', async () => {
  const s = secrets('from-secret');
  const keys = new ApiKeyStore(s.api, () => 'from-setting');
  assert.equal(await keys.get(), 'from-secret');
  assert.equal(await keys.get(), 'from-secret');
  assert.equal(s.reads(), 1);
  await keys.set('');
  assert.equal(s.store.size, 0);
  assert.equal(await keys.get(), 'from-setting');
  await keys.set('  new  ');
  assert.equal(await keys.get(), 'new');
  assert.equal(await new ApiKeyStore(secrets().api, () => '').get(), undefined);
});

test('backend choice: the PATCH body the server expects', () => {
  assert.deepEqual(backendPatch({ useExternalLlama: true, externalLlamaUrl: 'http://127.0.0.1:8081' }), {
    backend: { kind: 'external', external_url: 'http://127.0.0.1:8081' },
  });
  assert.deepEqual(backendPatch({ useExternalLlama: false, externalLlamaUrl: 'http://x' }), { backend: { kind: 'embedded' } });
});

test('backend choice: a server that does not know the section is logged once, quietly', async () => {
  const log = new RecordingLogger();
  const sync = new BackendSync(
    {
      patchConfig: async () => {
        throw new ServerApiError("unknown key 'backend'", 400, 'invalid_request_error', 'backend');
      },
    },
    log,
  );
  assert.equal(await sync.apply({ useExternalLlama: true, externalLlamaUrl: 'http://x' }), false);
  assert.equal(await sync.apply({ useExternalLlama: false, externalLlamaUrl: '' }), false);
  assert.equal(log.at('info').length, 1);
  assert.equal(log.at('warn').length + log.at('error').length, 0);
});

test('backend choice: kept while the server is down, sent when it is back', async () => {
  const patches: unknown[] = [];
  let up = false;
  const sync = new BackendSync(
    {
      patchConfig: async (p) => {
        if (!up) {
          throw new ServerUnreachableError('down', false);
        }
        patches.push(p);
        return {};
      },
    },
    new RecordingLogger(),
  );
  assert.equal(await sync.apply({ useExternalLlama: true, externalLlamaUrl: 'http://x' }), false);
  up = true;
  assert.equal(await sync.flush(), true);
  assert.equal(await sync.flush(), true);
  assert.equal(patches.length, 1);
});

test('status report: a Markdown table and a one-line summary', () => {
  const status = {
    model: { id: 'qwen2.5-coder-0.5b', n_ctx: 4096, fim: true },
    uptime_s: 3700,
    latency_ms: { p50: 412.2, p95: 980 },
    tokens_per_second: 55.5,
    cache: { hit_rate: 0.25 },
    feedback: { views: 10, accepts: 4, acceptance_rate: 0.4 },
    backends: [{ name: 'embedded', healthy: true }],
  };
  const md = statusMarkdown(status, 'http://127.0.0.1:8080');
  assert.match(md, /\| Model \| qwen2\.5-coder-0\.5b \|/);
  assert.match(md, /\| Uptime \| 1 h 1 min \|/);
  assert.match(md, /\| Acceptance \| 40 % \(4 of 10 shown\) \|/);
  assert.match(md, /\| embedded \|  \| yes \|/);
  assert.equal(statusSummary(status), 'qwen2.5-coder-0.5b · p50 412 ms · 56 tok/s');
});

test('refactor menu runs VS Code\'s own command for the choice', async () => {
  const ran: unknown[][] = [];
  const menu = new RefactorMenu({
    pick: async (choices) => choices.find((c) => c.label.includes('Extract')),
    run: async (command, ...args) => void ran.push([command, ...args]),
  });
  await menu.open();
  assert.deepEqual(ran, [['editor.action.codeAction', { kind: 'refactor.extract' }]]);
  assert.ok(REFACTOR_CHOICES.some((c) => c.command === 'editor.action.rename'));
});
