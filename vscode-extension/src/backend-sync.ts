/**
 * Applies `useExternalLlama` / `externalLlamaUrl` on the server (`PATCH /v1/config`, section "backend").
 * Remembers what is wanted until the server has taken it, so that a server that was down gets it when it
 * comes back. A server that does not know the section answers 400: that is logged once, quietly.
 */
import { ServerApiError, ServerUnreachableError } from './api-client';
import { Logger } from './logger';

export interface BackendChoice {
  useExternalLlama: boolean;
  externalLlamaUrl: string;
}

export interface ConfigPatcher {
  patchConfig(patch: Record<string, unknown>): Promise<unknown>;
}

export function backendPatch(choice: BackendChoice): Record<string, unknown> {
  return {
    backend: choice.useExternalLlama
      ? { kind: 'external', external_url: choice.externalLlamaUrl }
      : { kind: 'embedded' },
  };
}

export class BackendSync {
  private pending: BackendChoice | undefined;
  private unsupported = false;

  constructor(
    private readonly server: ConfigPatcher,
    private readonly log: Logger,
  ) {}

  /** Ask the server to use this backend; resolves true once it has. */
  async apply(choice: BackendChoice): Promise<boolean> {
    this.pending = choice;
    return this.flush();
  }

  /** Retry what is still pending (the server just came back). */
  async flush(): Promise<boolean> {
    const choice = this.pending;
    if (!choice) {
      return true;
    }
    if (choice.useExternalLlama && !choice.externalLlamaUrl) {
      this.log.warn('useExternalLlama is on but externalLlamaUrl is empty; the server keeps its backend');
      this.pending = undefined;
      return false;
    }
    try {
      await this.server.patchConfig(backendPatch(choice));
      if (this.pending === choice) {
        this.pending = undefined;
      }
      this.log.info(`server backend set to ${choice.useExternalLlama ? 'external' : 'embedded'}`);
      return true;
    } catch (err) {
      if (err instanceof ServerUnreachableError) {
        this.log.debug('backend choice kept until the server is reachable');
        return false;
      }
      if (this.pending === choice) {
        this.pending = undefined;
      }
      if (err instanceof ServerApiError && err.status === 400) {
        if (!this.unsupported) {
          this.unsupported = true;
          this.log.info(`the server did not take the backend setting (${err.message}); it keeps its own configuration`);
        }
        return false;
      }
      this.log.warn(`could not set the server backend: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }
}
