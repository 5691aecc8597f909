/**
 * What the status bar shows, worked out from what happens: requests starting and ending, health probes,
 * completions switched on or off. Pure state; the status bar only renders it.
 */
import { ServerApiError, ServerUnreachableError } from './api-client';
import { RequestObserver } from './completion-engine';

export type StatusState =
  | { kind: 'starting' }
  | { kind: 'ready'; latencyMs?: number }
  | { kind: 'working'; latencyMs?: number }
  | { kind: 'error'; message: string; unreachable: boolean; latencyMs?: number }
  | { kind: 'disabled' };

export class ServerState implements RequestObserver {
  private inFlight = 0;
  private latencyMs: number | undefined;
  private error: { message: string; unreachable: boolean } | undefined;
  private reachable = false;
  private enabled = true;

  constructor(
    private readonly render: (state: StatusState) => void,
    /** Called when a request finds the server gone, so that the monitor starts retrying. */
    private readonly onUnreachable: () => void = () => undefined,
  ) {}

  started(): void {
    this.inFlight++;
    this.emit();
  }

  succeeded(latencyMs: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.latencyMs = latencyMs;
    this.error = undefined;
    this.reachable = true;
    this.emit();
  }

  failed(error: Error): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    const unreachable = error instanceof ServerUnreachableError && !error.timedOut;
    this.error = { message: describeFailure(error), unreachable };
    if (unreachable) {
      this.reachable = false;
      this.onUnreachable();
    }
    this.emit();
  }

  cancelled(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.emit();
  }

  serverUp(): void {
    const wasDown = !this.reachable || this.error?.unreachable;
    this.reachable = true;
    if (wasDown) {
      this.error = undefined;
    }
    this.emit();
  }

  serverDown(message: string): void {
    this.reachable = false;
    this.error = { message, unreachable: true };
    this.emit();
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.emit();
  }

  current(): StatusState {
    if (!this.enabled) {
      return { kind: 'disabled' };
    }
    if (this.error) {
      return { kind: 'error', ...this.error, latencyMs: this.latencyMs };
    }
    if (this.inFlight > 0) {
      return { kind: 'working', latencyMs: this.latencyMs };
    }
    if (!this.reachable) {
      return { kind: 'starting' };
    }
    return { kind: 'ready', latencyMs: this.latencyMs };
  }

  private emit(): void {
    this.render(this.current());
  }
}

function describeFailure(error: Error): string {
  if (error instanceof ServerApiError && error.status === 401) {
    return 'the server refused the API key (run "Pylot: Set API Key")';
  }
  if (error instanceof ServerUnreachableError && error.timedOut) {
    return 'the server is too slow to answer (timeout)';
  }
  return error.message;
}
