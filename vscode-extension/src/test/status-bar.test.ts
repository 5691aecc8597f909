import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusBarItemLike, StatusBarView } from '../status-bar';
import { ThemeColor } from './vscode-double';

function view() {
  const item = {
    text: '',
    tooltip: undefined as unknown,
    command: undefined as unknown,
    backgroundColor: undefined as unknown,
    accessibilityInformation: undefined as unknown,
    shown: 0,
    show() {
      this.shown++;
    },
  };
  return { item, v: new StatusBarView(item as unknown as StatusBarItemLike, () => 'http://127.0.0.1:8080') };
}

test('ready shows a check and the last latency; the label is what tests and screen readers read', () => {
  const { item, v } = view();
  v.render({ kind: 'ready', latencyMs: 412.6 });
  assert.equal(item.text, '$(check) Pylot 413 ms');
  assert.deepEqual(item.accessibilityInformation, { label: 'Pylot: ready', role: 'button' });
  assert.equal(item.command, 'gcForgedPylot.showStatus');
  assert.equal(item.backgroundColor, undefined);
  assert.equal(item.shown, 1);
});

test('unreachable is a quiet error colour with the reason in the tooltip', () => {
  const { item, v } = view();
  v.render({ kind: 'error', message: 'cannot reach http://127.0.0.1:8080: ECONNREFUSED', unreachable: true });
  assert.deepEqual(item.accessibilityInformation, { label: 'Pylot: error: server unreachable', role: 'button' });
  assert.ok(item.backgroundColor instanceof ThemeColor);
  assert.match(String(item.tooltip), /ECONNREFUSED.*retrying/);
});

test('working spins; disabled points at the toggle', () => {
  const { item, v } = view();
  v.render({ kind: 'working' });
  assert.match(item.text, /loading~spin/);
  v.render({ kind: 'disabled' });
  assert.equal(item.command, 'gcForgedPylot.toggleCompletions');
  assert.equal((item.accessibilityInformation as unknown as { label: string }).label, 'Pylot: completions disabled');
});
