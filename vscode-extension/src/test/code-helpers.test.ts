import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commonIndent, extractCode, reindent } from '../code-text';
import { classifyLine, placeGeneratedCode } from '../generated-code';

test('extractCode takes the first fenced block, or the whole answer', () => {
  assert.equal(extractCode('Here:\n```python\ndef f():\n    return 1\n```\nDone.'), 'def f():\n    return 1');
  assert.equal(extractCode('def f():\n    return 1\n'), 'def f():\n    return 1');
  assert.equal(extractCode('```js\nlet x = 1;'), 'let x = 1;', 'an unterminated fence still gives the code');
});

test('reindent moves a block to a new indentation, keeping its shape', () => {
  assert.equal(commonIndent(['    a', '      b', '', '    c']), '    ');
  assert.equal(reindent('    if x:\n        y()\n\n    z()', '\t'), '\tif x:\n\t    y()\n\n\tz()');
});

test('classifyLine tells comments from signatures', () => {
  assert.equal(classifyLine('# return the n-th fibonacci number'), 'comment');
  assert.equal(classifyLine('  // parse the header'), 'comment');
  assert.equal(classifyLine('def fib(n: int) -> int:'), 'signature');
  assert.equal(classifyLine('export async function load(path: string) {'), 'signature');
  assert.equal(classifyLine('fn main() {'), 'signature');
  assert.equal(classifyLine('public static int add(int a, int b) {'), 'signature');
  assert.equal(classifyLine('  async load(path: string): Promise<void> {'), 'signature');
  assert.equal(classifyLine('    return fib(n - 1) + fib(n - 2)'), 'comment');
  assert.equal(classifyLine('   '), undefined);
});

test('code from a comment goes below it, at its indentation', () => {
  assert.deepEqual(placeGeneratedCode('    # add two numbers', 'def add(a, b):\n    return a + b', 'comment', '    '), {
    replaceLine: false,
    text: '    def add(a, b):\n        return a + b',
  });
});

test('code that repeats the signature replaces the signature line', () => {
  assert.deepEqual(placeGeneratedCode('def fib(n):', 'def fib(n: int) -> int:\n    return n if n < 2 else fib(n - 1) + fib(n - 2)', 'signature', '    '), {
    replaceLine: true,
    text: 'def fib(n: int) -> int:\n    return n if n < 2 else fib(n - 1) + fib(n - 2)',
  });
});

test('a body alone goes under the signature, one level deeper', () => {
  assert.deepEqual(placeGeneratedCode('  def fib(n):', 'if n < 2:\n    return n\nreturn fib(n - 1) + fib(n - 2)', 'signature', '  '), {
    replaceLine: false,
    text: '    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)',
  });
});

test('lines the model echoes from the context are dropped; new ones (an import) are kept above', () => {
  const code = 'import math\nimport re\n\ndef is_word(text: str) -> bool:\n    return bool(re.match(r"\\w+$", text))';
  assert.deepEqual(placeGeneratedCode('def is_word(text: str) -> bool:', code, 'signature', '    ', 'import math\n\n'), {
    replaceLine: true,
    text: 'import re\n\ndef is_word(text: str) -> bool:\n    return bool(re.match(r"\\w+$", text))',
  });
  assert.deepEqual(placeGeneratedCode('# add', 'import math\n\ndef add(a, b):\n    return a + b', 'comment', '    ', 'import math'), {
    replaceLine: false,
    text: 'def add(a, b):\n    return a + b',
  });
});
