import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerMonitor } from '../server-monitor';
import { ManualScheduler, RecordingLogger, flush } from './helpers';

function monitor(probe: () => Promise<number>) {
  const scheduler = new ManualScheduler();
  const log = new RecordingLogger();
  const seen: string[] = [];
  const m = new ServerMonitor({
    probe,
    state: { serverUp: (ms) => seen.push(`up ${ms}`), serverDown: (message) => seen.push(`down ${message}`) },
    log,
    schedule: scheduler.schedule,
    healthyIntervalMs: 30_000,
    retryMinMs: 1000,
    retryMaxMs: 8000,
  });
  return { m, scheduler, log, seen };
}

test('while the server is down it retries with growing delays, quietly', async () => {
  const { m, scheduler, seen, log } = monitor(async () => {
    throw new Error('ECONNREFUSED');
  });
  m.start();
  await flush();
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    delays.push(...scheduler.delays);
    scheduler.runNext();
    await flush();
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000]);
  assert.equal(seen.filter((s) => s.startsWith('down')).length, 6);
  assert.equal(log.at('warn').length, 1, 'one warning, not one per retry');
});

test('when it comes back: up, listeners told once, then a slow health check', async () => {
  let up = false;
  const { m, scheduler, seen } = monitor(async () => {
    if (!up) {
      throw new Error('down');
    }
    return 12;
  });
  let comebacks = 0;
  m.onServerUp(() => comebacks++);
  m.start();
  await flush();
  up = true;
  scheduler.runNext();
  await flush();
  assert.equal(seen[seen.length - 1], 'up 12');
  assert.equal(comebacks, 1);
  assert.deepEqual(scheduler.delays, [30_000]);
  scheduler.runNext();
  await flush();
  assert.equal(comebacks, 1, 'still up is not a comeback');
});

test('a failed request switches to retrying at once; stop ends everything', async () => {
  const { m, scheduler } = monitor(async () => 5);
  m.start();
  await flush();
  assert.deepEqual(scheduler.delays, [30_000]);
  m.reportUnreachable();
  assert.deepEqual(scheduler.delays, [1000]);
  m.stop();
  assert.deepEqual(scheduler.delays, []);
});
