import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPromptWindow } from '../completion-context';

test('short documents are sent whole', () => {
  const w = buildPromptWindow({ before: 'def f():\n    return ', after: '\n\nf()\n' });
  assert.equal(w.prompt, 'def f():\n    return ');
  assert.equal(w.suffix, '\n\nf()\n');
});

test('a long prefix is cut to the budget on a line boundary', () => {
  const before = `${'x = 1\n'.repeat(1000)}y = `;
  const w = buildPromptWindow({ before, after: '' }, 100, 50);
  assert.ok(w.prompt.length <= 100);
  assert.ok(w.prompt.startsWith('x = 1\n'), JSON.stringify(w.prompt.slice(0, 10)));
  assert.ok(w.prompt.endsWith('y = '));
});

test('a long suffix is cut to the budget on a line boundary', () => {
  const after = `)\n${'z = 2\n'.repeat(200)}`;
  const w = buildPromptWindow({ before: 'f(', after }, 100, 50);
  assert.ok(w.suffix.length <= 50);
  assert.ok(w.suffix.endsWith('\n'));
  assert.ok(w.suffix.startsWith(')\n'), 'the rest of the cursor\'s line is always sent');
});
