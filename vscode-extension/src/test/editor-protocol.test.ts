import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyTextEdits, editorSocketUrl, parseEditParams, parseServerMessage } from '../editor-protocol';

test('the socket URL follows the server URL', () => {
  assert.equal(editorSocketUrl('http://localhost:8080'), 'ws://localhost:8080/ws/editor');
  assert.equal(editorSocketUrl('https://pylot.example/base/'), 'wss://pylot.example/base/ws/editor');
  assert.throws(() => editorSocketUrl('not a url'));
});

test('requests are parsed; anything else is ignored', () => {
  assert.deepEqual(parseServerMessage('{"type":"request","id":3,"method":"getSelection"}'), {
    type: 'request',
    id: 3,
    method: 'getSelection',
    params: {},
  });
  assert.equal(parseServerMessage('{"type":"ping"}'), undefined);
  assert.equal(parseServerMessage('{"type":"request","id":"3","method":"x"}'), undefined);
  assert.equal(parseServerMessage('not json'), undefined);
});

test('edit params: a path and edits, or a path and the whole text; bad shapes say what is wrong', () => {
  const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 3 } };
  assert.deepEqual(parseEditParams({ path: 'a.py', edits: [{ range, newText: 'y' }] }), {
    path: 'a.py',
    uri: undefined,
    edits: [{ range, newText: 'y' }],
  });
  assert.deepEqual(parseEditParams({ uri: 'file:///a.py', text: 'x' }), { path: undefined, uri: 'file:///a.py', text: 'x' });
  assert.throws(() => parseEditParams({ edits: [] }), /path/);
  assert.throws(() => parseEditParams({ path: 'a.py' }), /edits/);
  assert.throws(() => parseEditParams({ path: 'a.py', edits: [{ range: { start: { line: -1, character: 0 } }, newText: '' }] }), /edits\[0\]/);
});

test('applyTextEdits applies several edits by position, from the end', () => {
  const text = 'def f():\n    return 1\n';
  const edits = [
    { range: { start: { line: 0, character: 4 }, end: { line: 0, character: 5 } }, newText: 'g' },
    { range: { start: { line: 1, character: 11 }, end: { line: 1, character: 12 } }, newText: '2' },
  ];
  assert.equal(applyTextEdits(text, edits), 'def g():\n    return 2\n');
  assert.equal(applyTextEdits('a', [{ range: { start: { line: 5, character: 0 }, end: { line: 5, character: 0 } }, newText: '!' }]), 'a!');
  assert.throws(() =>
    applyTextEdits(text, [
      { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 5 } }, newText: '' },
      { range: { start: { line: 0, character: 3 }, end: { line: 0, character: 6 } }, newText: '' },
    ]),
  );
});
