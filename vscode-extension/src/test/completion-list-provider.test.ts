import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as vscode from 'vscode';
import { Suggestion } from '../completion-engine';
import { CompletionListProvider } from '../completion-list-provider';
import { FakeDocument } from './fake-document';
import { CancellationTokenSource, CompletionItem, CompletionTriggerKind } from './vscode-double';

const doc = new FakeDocument('result = calc\n');
const suggestion: Suggestion = { id: 'c9', text: 'ulate_total(items)', fromCache: false };

function source(cached?: Suggestion) {
  const calls: string[] = [];
  return {
    calls,
    suggest: async () => {
      calls.push('suggest');
      return suggestion;
    },
    peek: () => {
      calls.push('peek');
      return cached;
    },
  };
}

function provide(provider: CompletionListProvider, triggerKind: CompletionTriggerKind) {
  return provider.provideCompletionItems(
    doc as unknown as vscode.TextDocument,
    doc.after('calc') as unknown as vscode.Position,
    new CancellationTokenSource().token as unknown as vscode.CancellationToken,
    { triggerKind } as unknown as vscode.CompletionContext,
  );
}

test('Ctrl+Space asks for a suggestion and offers it as one item that keeps the typed word', async () => {
  const s = source();
  const items = await provide(new CompletionListProvider(s, () => true), CompletionTriggerKind.Invoke);
  assert.deepEqual(s.calls, ['suggest']);
  const item = items![0] as unknown as CompletionItem;
  assert.equal(item.insertText, 'calculate_total(items)');
  assert.equal(item.filterText, 'calculate_total(items)');
  assert.deepEqual(item.label, { label: 'calculate_total(items)', description: 'Pylot' });
  assert.equal(item.range?.start.character, 'result = '.length);
  assert.deepEqual(item.command?.arguments, ['c9']);
});

test('while typing the list only shows what is already cached (no second request)', async () => {
  const none = source();
  assert.equal(await provide(new CompletionListProvider(none, () => true), CompletionTriggerKind.TriggerCharacter), undefined);
  assert.deepEqual(none.calls, ['peek']);
  const cached = source(suggestion);
  const items = await provide(new CompletionListProvider(cached, () => true), CompletionTriggerKind.TriggerCharacter);
  assert.equal(items?.length, 1);
});

test('switched off: nothing', async () => {
  const s = source();
  assert.equal(await provide(new CompletionListProvider(s, () => false), CompletionTriggerKind.Invoke), undefined);
  assert.deepEqual(s.calls, []);
});
