import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as vscode from 'vscode';
import { CompletionQuery, Suggestion } from '../completion-engine';
import { ACCEPT_COMMAND, InlineSuggestionProvider } from '../inline-provider';
import { FakeDocument } from './fake-document';
import { CancellationTokenSource, InlineCompletionItem, Range } from './vscode-double';

class Source {
  readonly queries: CompletionQuery[] = [];
  readonly signals: AbortSignal[] = [];
  answer: (signal: AbortSignal) => Promise<Suggestion | undefined> = async () => ({ id: 'c1', text: 'a + b', fromCache: false });

  suggest(query: CompletionQuery, signal: AbortSignal) {
    this.queries.push(query);
    this.signals.push(signal);
    return this.answer(signal);
  }

  peek() {
    return undefined;
  }
}

class Shown {
  readonly calls: string[] = [];
  shown(id: string, language: string) {
    this.calls.push(`shown ${id} ${language}`);
  }
  nothingShown() {
    this.calls.push('nothing');
  }
}

const doc = new FakeDocument('def add(a, b):\n    return \n\nprint(add(1, 2))\n');
const context = { triggerKind: 1, selectedCompletionInfo: undefined } as unknown as vscode.InlineCompletionContext;

function provide(provider: InlineSuggestionProvider, token = new CancellationTokenSource().token, ctx = context) {
  return provider.provideInlineCompletionItems(
    doc as unknown as vscode.TextDocument,
    doc.after('return ') as unknown as vscode.Position,
    ctx,
    token as unknown as vscode.CancellationToken,
  );
}

test('returns the suggestion as ghost text at the cursor, with the accept command', async () => {
  const source = new Source();
  const shown = new Shown();
  const items = await provide(new InlineSuggestionProvider(source, shown, () => true));
  assert.equal(items?.length, 1);
  const item = items![0] as unknown as InlineCompletionItem;
  assert.equal(item.insertText, 'a + b');
  assert.ok((item.range as Range).isEmpty);
  assert.deepEqual(item.command, { title: 'Accept Pylot suggestion', command: ACCEPT_COMMAND, arguments: ['c1'] });
  assert.deepEqual(shown.calls, ['shown c1 python']);
  const query = source.queries[0];
  assert.equal(query.text.before, 'def add(a, b):\n    return ');
  assert.equal(query.text.after, '\n\nprint(add(1, 2))\n');
  assert.equal(query.offset, 'def add(a, b):\n    return '.length);
  assert.equal(query.document, 'file:///work/example.py');
});

test('languages that are switched off get nothing and cost nothing', async () => {
  const source = new Source();
  assert.equal(await provide(new InlineSuggestionProvider(source, new Shown(), () => false)), undefined);
  assert.equal(source.queries.length, 0);
});

test('while the suggest widget is open the provider stays out of the way', async () => {
  const source = new Source();
  const ctx = { triggerKind: 1, selectedCompletionInfo: { text: 'x' } } as unknown as vscode.InlineCompletionContext;
  assert.equal(await provide(new InlineSuggestionProvider(source, new Shown(), () => true), undefined, ctx), undefined);
  assert.equal(source.queries.length, 0);
});

test('cancelling the token aborts the signal; a cancelled call reports nothing', async () => {
  const source = new Source();
  const shown = new Shown();
  const tokenSource = new CancellationTokenSource();
  source.answer = (signal) =>
    new Promise((resolve) => signal.addEventListener('abort', () => resolve({ id: 'late', text: 'x', fromCache: false })));
  const pending = provide(new InlineSuggestionProvider(source, shown, () => true), tokenSource.token);
  tokenSource.cancel();
  assert.equal(await pending, undefined);
  assert.equal(source.signals[0].aborted, true);
  assert.deepEqual(shown.calls, []);
});

test('no suggestion where one was shown: the tracker hears "nothing"', async () => {
  const source = new Source();
  const shown = new Shown();
  source.answer = async () => undefined;
  assert.equal(await provide(new InlineSuggestionProvider(source, shown, () => true)), undefined);
  assert.deepEqual(shown.calls, ['nothing']);
});
