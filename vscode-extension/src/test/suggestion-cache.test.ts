import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CacheKey, SuggestionCache } from '../suggestion-cache';

const before = 'def add(a, b):\n    return ';
const key = (typed = '', overrides: Partial<CacheKey> = {}): CacheKey => ({
  document: 'file:///a.py',
  offset: before.length + typed.length,
  before: before + typed,
  after: '\n\nprint(add(1, 2))\n',
  ...overrides,
});

function cacheWithSuggestion() {
  const cache = new SuggestionCache();
  cache.put(key(), { id: 'cmpl-1', text: 'a + b' });
  return cache;
}

test('typing the characters shown in grey serves the rest from the cache', () => {
  const cache = cacheWithSuggestion();
  assert.deepEqual(cache.get(key('a')), { id: 'cmpl-1', text: ' + b' });
  assert.deepEqual(cache.get(key('a + ')), { id: 'cmpl-1', text: 'b' });
});

test('the same place again gives the whole suggestion (deleted back to where it started)', () => {
  assert.deepEqual(cacheWithSuggestion().get(key()), { id: 'cmpl-1', text: 'a + b' });
});

test('typing something else is a miss', () => {
  assert.equal(cacheWithSuggestion().get(key('x')), undefined);
  assert.equal(cacheWithSuggestion().get(key('a - ')), undefined);
});

test('a fully typed suggestion is a miss (nothing left to show)', () => {
  assert.equal(cacheWithSuggestion().get(key('a + b')), undefined);
});

test('different text after the cursor, another document or an earlier offset is a miss', () => {
  const cache = cacheWithSuggestion();
  assert.equal(cache.get(key('a', { after: ')\n' })), undefined);
  assert.equal(cache.get(key('a', { document: 'file:///b.py' })), undefined);
  assert.equal(cache.get(key('', { offset: before.length - 1, before: before.slice(0, -1) })), undefined);
});

test('an edit above the cursor that keeps the offset is caught by comparing the text', () => {
  const cache = cacheWithSuggestion();
  const edited = 'def sub(a, b):\n    return a';
  assert.equal(cache.get(key('a', { before: edited, offset: edited.length })), undefined);
});

test('empty suggestions are not stored; old entries are evicted past capacity', () => {
  const cache = new SuggestionCache(2);
  cache.put(key(), { id: 'empty', text: '' });
  assert.equal(cache.size, 0);
  cache.put(key(), { id: '1', text: 'a' });
  cache.put(key('', { document: 'file:///2' }), { id: '2', text: 'b' });
  cache.put(key('', { document: 'file:///3' }), { id: '3', text: 'c' });
  assert.equal(cache.size, 2);
  assert.equal(cache.get(key()), undefined);
  cache.forget('file:///2');
  assert.equal(cache.size, 1);
});
