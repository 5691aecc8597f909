import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdaptiveDebounce } from '../adaptive-debounce';

function debounce(baseMs = 150) {
  const sleeps: number[] = [];
  const d = new AdaptiveDebounce({
    baseMs: () => baseMs,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { d, sleeps };
}

test('waits the base delay before any latency is known', async () => {
  const { d, sleeps } = debounce(150);
  assert.equal(await d.wait(new AbortController().signal), true);
  assert.deepEqual(sleeps, [150]);
});

test('waits less after fast answers and more while the server is slow', () => {
  const fast = debounce(200).d;
  for (let i = 0; i < 5; i++) {
    fast.recordLatency(80);
  }
  const slow = debounce(200).d;
  for (let i = 0; i < 5; i++) {
    slow.recordLatency(3000);
  }
  assert.ok(fast.delayMs() < 200, `fast: ${fast.delayMs()}`);
  assert.ok(slow.delayMs() > 200, `slow: ${slow.delayMs()}`);
  assert.equal(fast.delayMs(), 100); // never below half the base
  assert.equal(slow.delayMs(), 800); // never above four times the base
});

test('the delay stays within its bounds and follows a changed base', () => {
  let base = 1000;
  const d = new AdaptiveDebounce({ baseMs: () => base, maxMs: 1500, sleep: async () => undefined });
  d.recordLatency(10_000);
  assert.equal(d.delayMs(), 1500);
  base = 0;
  assert.equal(d.delayMs(), 0);
});

test('a zero base delay does not sleep at all', async () => {
  const { d, sleeps } = debounce(0);
  assert.equal(await d.wait(new AbortController().signal), true);
  assert.deepEqual(sleeps, []);
});

test('wait reports false when the user types on (the signal aborts)', async () => {
  const d = new AdaptiveDebounce({ baseMs: () => 10_000 });
  const controller = new AbortController();
  const waiting = d.wait(controller.signal);
  controller.abort();
  assert.equal(await waiting, false);
});

test('wait reports false at once for an already aborted signal', async () => {
  const { d, sleeps } = debounce();
  const controller = new AbortController();
  controller.abort();
  assert.equal(await d.wait(controller.signal), false);
  assert.deepEqual(sleeps, []);
});
