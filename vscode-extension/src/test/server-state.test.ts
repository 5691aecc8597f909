import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerApiError, ServerUnreachableError } from '../api-client';
import { ServerState, StatusState } from '../server-state';

function state() {
  const rendered: StatusState[] = [];
  let unreachable = 0;
  const s = new ServerState(
    (x) => rendered.push(x),
    () => unreachable++,
  );
  return { s, rendered, last: () => rendered[rendered.length - 1], unreachableCalls: () => unreachable };
}

test('connecting until the server is seen, then ready', () => {
  const { s, last } = state();
  s.setEnabled(true);
  assert.deepEqual(last(), { kind: 'starting' });
  s.serverUp();
  assert.deepEqual(last(), { kind: 'ready', latencyMs: undefined });
});

test('working while a request is out, ready with its latency after', () => {
  const { s, last } = state();
  s.serverUp();
  s.started();
  assert.equal(last().kind, 'working');
  s.succeeded(250);
  assert.deepEqual(last(), { kind: 'ready', latencyMs: 250 });
});

test('a refused connection is an unreachable error and asks the monitor to retry', () => {
  const { s, last, unreachableCalls } = state();
  s.serverUp();
  s.started();
  s.failed(new ServerUnreachableError('cannot reach x: ECONNREFUSED', false));
  const current = last();
  assert.equal(current.kind, 'error');
  assert.equal(current.kind === 'error' && current.unreachable, true);
  assert.equal(unreachableCalls(), 1);
  s.serverUp();
  assert.equal(last().kind, 'ready');
});

test('a rejected key says so; a timeout is an error but not "unreachable"', () => {
  const { s, last, unreachableCalls } = state();
  s.started();
  s.failed(new ServerApiError('bad key', 401, 'authentication_error'));
  const keyError = last();
  assert.ok(keyError.kind === 'error' && /API key/.test(keyError.message));
  s.started();
  s.failed(new ServerUnreachableError('slow', true));
  const timeout = last();
  assert.ok(timeout.kind === 'error' && !timeout.unreachable && /timeout/.test(timeout.message));
  assert.equal(unreachableCalls(), 0);
});

test('a health probe does not clear an error a request reported', () => {
  const { s, last } = state();
  s.serverUp();
  s.started();
  s.failed(new ServerApiError('model not loaded', 503));
  s.serverUp();
  assert.equal(last().kind, 'error');
  s.started();
  s.succeeded(10);
  assert.equal(last().kind, 'ready');
});

test('disabled wins over everything', () => {
  const { s, last } = state();
  s.serverDown('down');
  s.setEnabled(false);
  assert.deepEqual(last(), { kind: 'disabled' });
});
