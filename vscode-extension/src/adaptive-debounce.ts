/**
 * The pause between a keystroke and the request. It follows the server's recent latency: a server that
 * answers in 100 ms can be asked after every short pause, one that takes seconds should only be asked once
 * the user stops typing, because every request it starts costs it seconds of CPU.
 */

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface AdaptiveDebounceOptions {
  /** The configured base delay (`gcForgedPylot.debounceMs`), read each time. */
  baseMs: () => number;
  minMs?: number;
  maxMs?: number;
  /** The latency at which the delay equals the base delay. */
  referenceLatencyMs?: number;
  sleep?: Sleep;
}

/** Weight of the newest latency sample in the moving average. */
const SMOOTHING = 0.3;

export class AdaptiveDebounce {
  private averageLatencyMs: number | undefined;
  private readonly sleep: Sleep;

  constructor(private readonly options: AdaptiveDebounceOptions) {
    this.sleep = options.sleep ?? abortableSleep;
  }

  recordLatency(ms: number): void {
    this.averageLatencyMs = this.averageLatencyMs === undefined ? ms : SMOOTHING * ms + (1 - SMOOTHING) * this.averageLatencyMs;
  }

  get latencyMs(): number | undefined {
    return this.averageLatencyMs;
  }

  delayMs(): number {
    const base = this.options.baseMs();
    if (base <= 0) {
      return 0;
    }
    const min = this.options.minMs ?? 25;
    const max = this.options.maxMs ?? 1500;
    if (this.averageLatencyMs === undefined) {
      return Math.min(max, Math.max(min, base));
    }
    const reference = this.options.referenceLatencyMs ?? 500;
    const factor = Math.min(4, Math.max(0.5, this.averageLatencyMs / reference));
    return Math.round(Math.min(max, Math.max(min, base * factor)));
  }

  /** Waits for the current delay; false when the signal aborted first. */
  async wait(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) {
      return false;
    }
    const delay = this.delayMs();
    if (delay > 0) {
      try {
        await this.sleep(delay, signal);
      } catch {
        return false;
      }
    }
    return !signal.aborted;
  }
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
