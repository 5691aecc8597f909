import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPromptWindow, stopSequences } from '../completion-context';

test('short documents are sent whole', () => {
  const w = buildPromptWindow({ before: 'def f():\n    return ', after: '\n\nf()\n' });
  assert.equal(w.prompt, 'def f():\n    return ');
  assert.equal(w.suffix, '\n\nf()\n');
  assert.equal(w.linePrefix, '    return ');
  assert.equal(w.lineSuffix, '');
  assert.equal(w.multiline, false);
  assert.deepEqual(stopSequences(w), ['\n']);
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
  assert.equal(w.lineSuffix, ')');
});

test('a blank line allows a multi-line suggestion', () => {
  const w = buildPromptWindow({ before: 'def f():\n    ', after: '\n' });
  assert.equal(w.multiline, true);
  assert.deepEqual(stopSequences(w), ['\n\n\n']);
});

test('text after the cursor on the line keeps the suggestion to one line', () => {
  const w = buildPromptWindow({ before: 'print(', after: ')\n' });
  assert.equal(w.multiline, false);
  assert.equal(w.lineSuffix, ')');
});
