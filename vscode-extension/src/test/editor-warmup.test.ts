import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as vscode from 'vscode';
import { CompletionRequest, CompletionResult, ServerUnreachableError } from '../api-client';
import { EditorWarmup, WARMUP_DELAY_MS, WarmupTarget, targetOf } from '../editor-warmup';
import { FakeDocument } from './fake-document';
import { ManualScheduler, RecordingLogger, flush } from './helpers';
import { Position } from './vscode-double';

class FakeBackend {
  readonly requests: CompletionRequest[] = [];
  answer: () => Promise<CompletionResult> = async () => ({ id: 'cmpl-w', text: '', finishReason: 'length', latencyMs: 40 });

  complete(request: CompletionRequest): Promise<CompletionResult> {
    this.requests.push(request);
    return this.answer();
  }
}

const code = 'import os\n\ndef main():\n    path = os.path.jo\n\nmain()\n';

function place(overrides: Partial<WarmupTarget> = {}): WarmupTarget {
  const offset = code.indexOf('.jo') + 3;
  return {
    document: 'file:///work/main.py',
    version: 1,
    line: 3,
    languageId: 'python',
    text: { before: code.slice(0, offset), after: code.slice(offset) },
    ...overrides,
  };
}

function setup(target: () => WarmupTarget | undefined = () => place()) {
  const backend = new FakeBackend();
  const scheduler = new ManualScheduler();
  const log = new RecordingLogger();
  const active = new Set(['python']);
  const warmup = new EditorWarmup({
    backend,
    target,
    isActiveFor: (languageId) => active.has(languageId),
    temperature: () => 0.2,
    schedule: scheduler.schedule,
    log,
  });
  return { warmup, backend, scheduler, log, active };
}

test('after a pause, sends the prompt a keystroke would send, with max_tokens 0', async () => {
  const { warmup, backend, scheduler } = setup();
  warmup.editorChanged();
  assert.deepEqual(scheduler.delays, [WARMUP_DELAY_MS]);
  assert.equal(backend.requests.length, 0);
  scheduler.runNext();
  await flush();
  assert.deepEqual(backend.requests, [
    {
      prompt: 'import os\n\ndef main():\n    path = os.path.jo',
      suffix: '\n\nmain()\n',
      max_tokens: 0,
      temperature: 0.2,
    },
  ]);
});

test('flipping through editors warms up only the one the user stops at', async () => {
  const { warmup, backend, scheduler } = setup();
  warmup.editorChanged();
  warmup.editorChanged();
  warmup.editorChanged();
  assert.deepEqual(scheduler.delays, [WARMUP_DELAY_MS]);
  scheduler.runNext();
  await flush();
  assert.equal(backend.requests.length, 1);
});

test('one warm-up per document version and line; another version or line warms up again', async () => {
  let target = place();
  const { warmup, backend, scheduler } = setup(() => target);
  for (const next of [place(), place(), place({ version: 2 }), place({ version: 2, line: 5 })]) {
    target = next;
    warmup.editorChanged();
    scheduler.runNext();
    await flush();
  }
  assert.equal(backend.requests.length, 3);
});

test('a server that came up again gets the last place again', async () => {
  const { warmup, backend, scheduler } = setup();
  warmup.editorChanged();
  scheduler.runNext();
  await flush();
  warmup.serverUp();
  scheduler.runNext();
  await flush();
  assert.equal(backend.requests.length, 2);
});

test('a failed warm-up is logged at debug only, and the next change tries again', async () => {
  const { warmup, backend, scheduler, log } = setup();
  backend.answer = async () => {
    throw new ServerUnreachableError('cannot reach http://localhost:8080: ECONNREFUSED', false);
  };
  warmup.editorChanged();
  scheduler.runNext();
  await flush();
  assert.deepEqual(log.at('warn'), []);
  assert.deepEqual(log.at('error'), []);
  assert.match(log.at('debug')[0], /warm-up skipped: cannot reach/);
  warmup.editorChanged();
  scheduler.runNext();
  await flush();
  assert.equal(backend.requests.length, 2);
});

test('no warm-up without an editor, or for a language completions are off for', async () => {
  let target: WarmupTarget | undefined;
  const { warmup, backend, scheduler, active } = setup(() => target);
  warmup.editorChanged();
  scheduler.runNext();
  target = place();
  active.clear();
  warmup.editorChanged();
  scheduler.runNext();
  await flush();
  assert.equal(backend.requests.length, 0);
});

test('dispose cancels a pending pause', () => {
  const { warmup, scheduler } = setup();
  warmup.editorChanged();
  warmup.dispose();
  assert.deepEqual(scheduler.delays, []);
});

test('the target is the cursor of a file editor, not of the output panel', () => {
  const document = Object.assign(new FakeDocument(code), { version: 7 });
  const editor = { document, selection: { active: new Position(3, 21) } } as unknown as vscode.TextEditor;
  const target = targetOf(editor, ['file']);
  assert.equal(target?.version, 7);
  assert.equal(target?.line, 3);
  assert.ok(target?.text.before.endsWith('os.path.jo'));
  assert.equal(targetOf(editor, ['untitled']), undefined);
  assert.equal(targetOf(undefined, ['file']), undefined);
});
