/** Shared test helpers: a recording logger, deferred promises, a manual scheduler. */
import { Logger } from '../logger';

export class RecordingLogger implements Logger {
  readonly lines: { level: string; message: string }[] = [];

  debug(message: string): void {
    this.lines.push({ level: 'debug', message });
  }

  info(message: string): void {
    this.lines.push({ level: 'info', message });
  }

  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }

  error(message: string | Error): void {
    this.lines.push({ level: 'error', message: String(message) });
  }

  at(level: string): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.message);
  }
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A scheduler whose timers run only when the test says so. */
export class ManualScheduler {
  readonly pending: { callback: () => void; ms: number; cancelled: boolean }[] = [];

  readonly schedule = (callback: () => void, ms: number) => {
    const entry = { callback, ms, cancelled: false };
    this.pending.push(entry);
    return () => {
      entry.cancelled = true;
    };
  };

  get delays(): number[] {
    return this.pending.filter((p) => !p.cancelled).map((p) => p.ms);
  }

  /** Runs the earliest live timer. */
  runNext(): void {
    const index = this.pending.findIndex((p) => !p.cancelled);
    if (index < 0) {
      throw new Error('no timer pending');
    }
    const [entry] = this.pending.splice(index, 1);
    entry.callback();
  }
}

/** Lets queued promise callbacks run. */
export async function flush(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}
