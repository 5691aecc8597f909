import assert from 'node:assert/strict';
import { test } from 'node:test';
import { docStyleFor, docstringEdit, docstringStop, docstringText, findDocTarget, targetSource } from '../docstring';

const python = `import math


class Shape:
    def area(self,
             scale=1):
        return 0

    def name(self):
        """Old docstring."""
        return "shape"


def circle_area(radius):
    return math.pi * radius ** 2
`.split('\n');

const PY = docStyleFor('python')!;
const JS = docStyleFor('typescript')!;

test('python: the function around the cursor, even inside a class', () => {
  const target = findDocTarget(python, 14, 'python')!;
  assert.equal(target.name, 'circle_area');
  assert.equal(target.headerLine, 13);
  assert.equal(target.bodyIndent, '    ');
  assert.equal(target.existing, undefined);
  assert.equal(findDocTarget(python, 6, 'python')!.name, 'area');
  assert.equal(findDocTarget(python, 3, 'python')!.name, 'Shape');
});

test('python: a signature over several lines, with the cursor in it', () => {
  const target = findDocTarget(python, 5, 'python')!;
  assert.equal(target.name, 'area');
  assert.equal(target.headerLine, 4);
  assert.equal(target.headerEndLine, 5);
  assert.equal(target.bodyIndent, '        ');
  assert.equal(targetSource(python, target), 'def area(self,\n         scale=1):\n    return 0');
});

test('python: an existing docstring is found, to be replaced', () => {
  const target = findDocTarget(python, 10, 'python')!;
  assert.equal(target.name, 'name');
  assert.deepEqual(target.existing, { startLine: 9, endLine: 9 });
});

test('python: no function around the cursor, or a language without a style', () => {
  assert.equal(findDocTarget(python, 0, 'python'), undefined);
  assert.equal(findDocTarget(python, 15, 'plaintext'), undefined);
});

test('the stop sequence is the first line of the body, skipping an old docstring', () => {
  assert.deepEqual(docstringStop(python, findDocTarget(python, 14, 'python')!), ['return math.pi * radius ** 2']);
  assert.deepEqual(docstringStop(python, findDocTarget(python, 10, 'python')!), ['return "shape"']);
});

test('python: the docstring out of the whole function the model wrote back', () => {
  const answer = [
    '```python',
    'def circle_area(radius):',
    '    """',
    '    Calculate the area of a circle.',
    '',
    '    Args:',
    '        radius (float): The radius.',
    '    """',
    '```',
  ].join('\n');
  assert.equal(docstringText(answer, PY), 'Calculate the area of a circle.\n\nArgs:\n    radius (float): The radius.');
});

test('python: a plain-text answer is used as is; code without a docstring gives nothing', () => {
  assert.equal(docstringText('Return the area of a circle.', PY), 'Return the area of a circle.');
  assert.equal(docstringText('```python\ndef circle_area(radius):\n```', PY), '');
  assert.equal(docstringText('"""Say "hi" with """ inside."""', PY), 'Say "hi" with');
});

test('python: the edit goes under the header at body indentation, or replaces the old docstring', () => {
  const target = findDocTarget(python, 14, 'python')!;
  assert.deepEqual(docstringEdit(target, 'Area of a circle.', PY), {
    startLine: 14,
    endLine: 14,
    text: '    """Area of a circle."""\n',
  });
  assert.deepEqual(docstringEdit(target, 'Area.\n\nArgs:\n    r: radius.', PY).text, '    """Area.\n\n    Args:\n        r: radius.\n    """\n');
  const old = findDocTarget(python, 10, 'python')!;
  assert.deepEqual(docstringEdit(old, 'New.', PY), { startLine: 9, endLine: 10, text: '        """New."""\n' });
});

const ts = `export class Cart {
  total(items: Item[]): number {
    return items.reduce((sum, i) => sum + i.price, 0);
  }
}

/** Old. */
export const double = (x: number) => x * 2;

function main() {
  console.log(new Cart().total([]));
}
`.split('\n');

test('brace languages: methods, functions and arrow functions; doc comments above', () => {
  const method = findDocTarget(ts, 2, 'typescript')!;
  assert.equal(method.name, 'total');
  assert.equal(method.endLine, 3);
  assert.equal(method.indent, '  ');
  assert.equal(findDocTarget(ts, 10, 'typescript')!.name, 'main');
  const arrow = findDocTarget(ts, 7, 'typescript')!;
  assert.equal(arrow.name, 'double');
  assert.deepEqual(arrow.existing, { startLine: 6, endLine: 6 });
});

test('brace languages: a JSDoc block from the answer, placed above the header', () => {
  const answer = '```ts\n/**\n * Sums the prices.\n * @param items the items\n */\ntotal(items: Item[]): number {\n```';
  const text = docstringText(answer, JS);
  assert.equal(text, 'Sums the prices.\n@param items the items');
  const edit = docstringEdit(findDocTarget(ts, 2, 'typescript')!, text, JS);
  assert.deepEqual(edit, {
    startLine: 1,
    endLine: 1,
    text: '  /**\n   * Sums the prices.\n   * @param items the items\n   */\n',
  });
});

test('line-comment styles (Rust, Go)', () => {
  const rust = ['pub fn add(a: i32, b: i32) -> i32 {', '    a + b', '}'];
  const target = findDocTarget(rust, 1, 'rust')!;
  assert.equal(target.name, 'add');
  assert.equal(docstringEdit(target, 'Adds.\n\nTwo numbers.', docStyleFor('rust')!).text, '/// Adds.\n///\n/// Two numbers.\n');
  assert.equal(docstringText('/// Adds two numbers.\npub fn add() {}', docStyleFor('rust')!), 'Adds two numbers.');
});
