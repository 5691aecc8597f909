/**
 * Keeps an eye on the server: a health probe now and then while it is up, and retries with backoff while
 * it is down. Failures go to the status bar only; never a pop-up.
 */
import { Logger } from './logger';
import { Schedule, timerSchedule } from './schedule';

export interface ServerMonitorDeps {
  /** Resolves with the round trip in ms; rejects when the server cannot be reached. */
  probe: () => Promise<number>;
  state: { serverUp(latencyMs: number): void; serverDown(message: string): void };
  log: Logger;
  schedule?: Schedule;
  healthyIntervalMs?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class ServerMonitor {
  private cancelTimer: (() => void) | undefined;
  private failures = 0;
  private stopped = true;
  private checking = false;
  private seenUp = false;
  private readonly upListeners: (() => void)[] = [];
  private readonly schedule: Schedule;

  constructor(private readonly deps: ServerMonitorDeps) {
    this.schedule = deps.schedule ?? timerSchedule;
  }

  /** Called each time the server comes back (or is seen for the first time). */
  onServerUp(listener: () => void): void {
    this.upListeners.push(listener);
  }

  start(): void {
    this.stopped = false;
    void this.checkNow();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  /** A request just failed to reach the server: start retrying unless that is already happening. */
  reportUnreachable(): void {
    if (this.failures === 0 && !this.stopped) {
      this.failures = 1;
      this.reschedule(this.retryDelay());
    }
  }

  async checkNow(): Promise<void> {
    if (this.stopped || this.checking) {
      return;
    }
    this.checking = true;
    this.cancelTimer?.();
    try {
      const latency = await this.deps.probe();
      const wasDown = this.failures > 0 || !this.seenUp;
      this.failures = 0;
      this.seenUp = true;
      this.deps.state.serverUp(latency);
      if (wasDown) {
        this.deps.log.info(`server reachable (health ${latency} ms)`);
        for (const listener of this.upListeners) {
          listener();
        }
      }
      this.reschedule(this.deps.healthyIntervalMs ?? 30_000);
    } catch (err) {
      this.failures++;
      const message = err instanceof Error ? err.message : String(err);
      const delay = this.retryDelay();
      if (this.failures === 1 || this.failures % 10 === 0) {
        this.deps.log.warn(`${message}; retrying every ${Math.round(delay / 1000)} s at most`);
      }
      this.deps.state.serverDown(message);
      this.reschedule(delay);
    } finally {
      this.checking = false;
    }
  }

  private retryDelay(): number {
    const min = this.deps.retryMinMs ?? 2_000;
    const max = this.deps.retryMaxMs ?? 30_000;
    return Math.min(max, min * 2 ** Math.max(0, this.failures - 1));
  }

  private reschedule(ms: number): void {
    this.cancelTimer?.();
    if (this.stopped) {
      return;
    }
    this.cancelTimer = this.schedule(() => void this.checkNow(), ms);
  }
}
