/** The API key: kept in VS Code's SecretStorage; the `apiKey` setting is only a fallback. */

/** The part of vscode.SecretStorage used here. */
export interface SecretStore {
  get(key: string): Thenable<string | undefined>;
  store(key: string, value: string): Thenable<void>;
  delete(key: string): Thenable<void>;
}

const SECRET_KEY = 'gcForgedPylot.apiKey';

export class ApiKeyStore {
  private cached: Promise<string | undefined> | undefined;

  constructor(
    private readonly secrets: SecretStore,
    private readonly fallback: () => string,
  ) {}

  /** The key to send, or undefined when there is none. */
  async get(): Promise<string | undefined> {
    this.cached ??= Promise.resolve(this.secrets.get(SECRET_KEY)).catch(() => undefined);
    const secret = await this.cached;
    return secret || this.fallback() || undefined;
  }

  /** Stores the key; an empty one removes it. */
  async set(key: string): Promise<void> {
    this.cached = undefined;
    if (key.trim()) {
      await this.secrets.store(SECRET_KEY, key.trim());
    } else {
      await this.secrets.delete(SECRET_KEY);
    }
  }

  /** Forget the cached secret (it changed in another window). */
  invalidate(): void {
    this.cached = undefined;
  }

  static readonly secretKey = SECRET_KEY;
}
