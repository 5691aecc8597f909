/**
 * The editor link: a WebSocket to the server's /ws/editor through which Pylot's agent and tools ask this
 * editor for its open files, selection and diagnostics, and propose or apply edits. Reconnects with
 * backoff; a server without the endpoint just means quiet retries.
 */
import { EditorRequestHandler, HelloMessage, ResponseMessage, editorSocketUrl, parseServerMessage } from './editor-protocol';
import { Logger } from './logger';
import { Schedule, timerSchedule } from './schedule';

/** The part of a `ws` WebSocket the link uses. */
export interface SocketLike {
  on(event: 'open', listener: () => void): unknown;
  on(event: 'message', listener: (data: unknown) => void): unknown;
  on(event: 'close', listener: (code: number, reason: unknown) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string, headers: Record<string, string>) => SocketLike;

export interface EditorLinkDeps {
  serverUrl: () => string;
  apiKey: () => Promise<string | undefined>;
  hello: () => HelloMessage;
  handler: EditorRequestHandler;
  connect: SocketFactory;
  log: Logger;
  schedule?: Schedule;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class EditorLink {
  private socket: SocketLike | undefined;
  private open = false;
  private stopped = true;
  private failures = 0;
  private cancelRetry: (() => void) | undefined;
  private readonly schedule: Schedule;

  constructor(private readonly deps: EditorLinkDeps) {
    this.schedule = deps.schedule ?? timerSchedule;
  }

  get connected(): boolean {
    return this.open;
  }

  start(): void {
    if (!this.stopped) {
      return;
    }
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    const socket = this.socket;
    this.socket = undefined;
    this.open = false;
    socket?.close(1000, 'editor link stopped');
  }

  /** Drop the connection and connect again at once (new URL or key, or the server just came back). */
  reconnect(): void {
    if (this.stopped) {
      return;
    }
    this.failures = 0;
    const socket = this.socket;
    this.socket = undefined;
    this.open = false;
    socket?.close(1000, 'reconnecting');
    this.cancelRetry?.();
    void this.connect();
  }

  /** Connect now if the link is waiting between retries (the server is known to be back). */
  nudge(): void {
    if (!this.stopped && !this.socket) {
      this.cancelRetry?.();
      this.failures = 0;
      void this.connect();
    }
  }

  private async connect(): Promise<void> {
    this.cancelRetry = undefined;
    let url: string;
    try {
      url = editorSocketUrl(this.deps.serverUrl());
    } catch (err) {
      this.deps.log.warn(`editor link: bad server URL: ${String(err)}`);
      return;
    }
    const key = await this.deps.apiKey();
    if (this.stopped || this.socket) {
      return;
    }
    const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    let socket: SocketLike;
    try {
      socket = this.deps.connect(url, headers);
    } catch (err) {
      this.deps.log.debug(`editor link: cannot open ${url}: ${String(err)}`);
      this.retryLater();
      return;
    }
    this.socket = socket;
    socket.on('open', () => {
      if (this.socket !== socket) {
        return;
      }
      this.open = true;
      this.failures = 0;
      this.deps.log.info(`editor link connected to ${url}`);
      socket.send(JSON.stringify(this.deps.hello()));
    });
    socket.on('message', (data) => {
      if (this.socket === socket) {
        void this.onMessage(socket, String(data));
      }
    });
    socket.on('error', (error) => {
      this.deps.log.debug(`editor link: ${error.message}`);
    });
    socket.on('close', (code) => {
      if (this.socket !== socket) {
        return;
      }
      if (this.open) {
        this.deps.log.info(`editor link closed (code ${code})`);
      }
      this.socket = undefined;
      this.open = false;
      this.retryLater();
    });
  }

  private retryLater(): void {
    if (this.stopped) {
      return;
    }
    const min = this.deps.minBackoffMs ?? 1_000;
    const max = this.deps.maxBackoffMs ?? 60_000;
    const delay = Math.min(max, min * 2 ** this.failures);
    this.failures++;
    if (this.failures === 1) {
      this.deps.log.debug(`editor link: not connected; retrying with backoff up to ${Math.round(max / 1000)} s`);
    }
    this.cancelRetry = this.schedule(() => void this.connect(), delay);
  }

  private async onMessage(socket: SocketLike, raw: string): Promise<void> {
    const request = parseServerMessage(raw);
    if (!request) {
      this.deps.log.debug(`editor link: ignored a message that is not a request (${raw.length} bytes)`);
      return;
    }
    let response: ResponseMessage;
    const started = Date.now();
    try {
      const result = await this.deps.handler.handle(request.method, request.params);
      response = { type: 'response', id: request.id, result: result ?? null };
    } catch (err) {
      response = { type: 'response', id: request.id, error: err instanceof Error ? err.message : String(err) };
    }
    this.deps.log.debug(`editor link: ${request.method} #${request.id} answered in ${Date.now() - started} ms`);
    if (this.socket === socket && this.open) {
      socket.send(JSON.stringify(response));
    }
  }
}
