import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanSuggestion } from '../post-process';

const single = { lineSuffix: '', suffix: '', multiline: false };
const multi = { lineSuffix: '', suffix: '', multiline: true };

test('single-line places keep the first line only', () => {
  assert.equal(cleanSuggestion(' a + b\n\nprint(1)', single), ' a + b');
});

test('trailing whitespace goes, leading whitespace stays', () => {
  assert.equal(cleanSuggestion(' a + b   \n', single), ' a + b');
});

test('nothing but whitespace is nothing', () => {
  assert.equal(cleanSuggestion('   \n  ', multi), '');
  assert.equal(cleanSuggestion('', single), '');
});

test('closing characters already after the cursor are not repeated', () => {
  assert.equal(cleanSuggestion('a, b)', { ...single, lineSuffix: ')' }), 'a, b');
  assert.equal(cleanSuggestion('x]):', { ...single, lineSuffix: ']):' }), 'x');
  assert.equal(cleanSuggestion('value', { ...single, lineSuffix: ')' }), 'value');
});

test('a block stops where it runs into the code below the cursor', () => {
  const suffix = '\ndef main():\n    pass\n';
  const raw = '    total = a + b\n    return total\ndef main():\n    pass';
  assert.equal(cleanSuggestion(raw, { ...multi, suffix }), '    total = a + b\n    return total');
});

test('blocks are capped in lines; CRLF becomes LF', () => {
  const raw = Array.from({ length: 30 }, (_, i) => `line${i}`).join('\r\n');
  const cleaned = cleanSuggestion(raw, { ...multi, maxLines: 3 });
  assert.equal(cleaned, 'line0\nline1\nline2');
});
