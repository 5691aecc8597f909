import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { EditorLink, SocketLike } from '../editor-link';
import { ManualScheduler, RecordingLogger, flush } from './helpers';

class FakeSocket extends EventEmitter implements SocketLike {
  readonly sent: unknown[] = [];
  closed = false;

  constructor(
    readonly url: string,
    readonly headers: Record<string, string>,
  ) {
    super();
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.closed = true;
  }

  /** What the server would do. */
  serverSends(message: unknown): void {
    this.emit('message', Buffer.from(JSON.stringify(message)));
  }
}

function link(key?: string) {
  const sockets: FakeSocket[] = [];
  const scheduler = new ManualScheduler();
  const handled: string[] = [];
  const l = new EditorLink({
    serverUrl: () => 'http://127.0.0.1:8080',
    apiKey: async () => key,
    hello: () => ({ type: 'hello', editor: 'vscode', version: '0.1.0', vscode_version: '1.139.1', workspace: ['/work'] }),
    handler: {
      handle: async (method, params) => {
        handled.push(method);
        if (method === 'getSelection') {
          return { text: 'x = 1', params };
        }
        throw new Error(`unknown method "${method}"`);
      },
    },
    connect: (url, headers) => {
      const s = new FakeSocket(url, headers);
      sockets.push(s);
      return s;
    },
    log: new RecordingLogger(),
    schedule: scheduler.schedule,
    minBackoffMs: 1000,
    maxBackoffMs: 8000,
  });
  return { l, sockets, scheduler, handled };
}

test('connects to /ws/editor with the key in a header and says hello', async () => {
  const { l, sockets } = link('k-123');
  l.start();
  await flush();
  assert.equal(sockets[0].url, 'ws://127.0.0.1:8080/ws/editor');
  assert.deepEqual(sockets[0].headers, { authorization: 'Bearer k-123' });
  sockets[0].emit('open');
  assert.ok(l.connected);
  assert.deepEqual(sockets[0].sent[0], { type: 'hello', editor: 'vscode', version: '0.1.0', vscode_version: '1.139.1', workspace: ['/work'] });
});

test('answers requests with results and errors, by id', async () => {
  const { l, sockets } = link();
  l.start();
  await flush();
  const socket = sockets[0];
  socket.emit('open');
  socket.serverSends({ type: 'request', id: 7, method: 'getSelection', params: { a: 1 } });
  socket.serverSends({ type: 'request', id: 8, method: 'explode' });
  socket.serverSends({ type: 'something-else' });
  await flush();
  assert.deepEqual(socket.sent.slice(1), [
    { type: 'response', id: 7, result: { text: 'x = 1', params: { a: 1 } } },
    { type: 'response', id: 8, error: 'unknown method "explode"' },
  ]);
});

test('reconnects with growing backoff while the server is away, and resets once connected', async () => {
  const { l, sockets, scheduler } = link();
  l.start();
  await flush();
  for (let i = 0; i < 4; i++) {
    sockets[sockets.length - 1].emit('error', new Error('ECONNREFUSED'));
    sockets[sockets.length - 1].emit('close', 1006, '');
    assert.equal(scheduler.delays.length, 1);
    scheduler.runNext();
    await flush();
  }
  assert.equal(sockets.length, 5);
  assert.deepEqual(
    scheduler.pending.map((p) => p.ms),
    [],
  );
  sockets[4].emit('open');
  sockets[4].emit('close', 1001, '');
  assert.deepEqual(scheduler.delays, [1000], 'after a good connection the backoff starts over');
});

test('stop closes the socket and stops reconnecting', async () => {
  const { l, sockets, scheduler } = link();
  l.start();
  await flush();
  sockets[0].emit('open');
  l.stop();
  assert.equal(sockets[0].closed, true);
  sockets[0].emit('close', 1000, '');
  assert.deepEqual(scheduler.delays, []);
  assert.equal(l.connected, false);
});

test('reconnect drops the connection and opens a new one at once', async () => {
  const { l, sockets } = link();
  l.start();
  await flush();
  sockets[0].emit('open');
  l.reconnect();
  await flush();
  assert.equal(sockets[0].closed, true);
  assert.equal(sockets.length, 2);
});
