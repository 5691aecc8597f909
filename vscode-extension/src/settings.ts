/** The extension's settings (`gcForgedPylot.*`), read into one plain object so the rest never touches VS Code's configuration API. */

export const SECTION = 'gcForgedPylot';

export interface PylotSettings {
  serverUrl: string;
  /** The `apiKey` setting: only a fallback for the key kept in SecretStorage. */
  apiKeySetting: string;
  useExternalLlama: boolean;
  externalLlamaUrl: string;
  enabled: boolean;
  enabledLanguages: string[];
  maxTokens: number;
  temperature: number;
  debounceMs: number;
  requestTimeoutMs: number;
  completionList: boolean;
  chatMaxTokens: number;
  editorLink: boolean;
}

/** The part of `vscode.WorkspaceConfiguration` this module reads. */
export interface ConfigurationReader {
  get<T>(key: string, defaultValue: T): T;
}

export const DEFAULT_SERVER_URL = 'http://localhost:8080';

export function readSettings(config: ConfigurationReader): PylotSettings {
  return {
    serverUrl: normaliseUrl(config.get('serverUrl', DEFAULT_SERVER_URL)) || DEFAULT_SERVER_URL,
    apiKeySetting: config.get('apiKey', '').trim(),
    useExternalLlama: config.get('useExternalLlama', false),
    externalLlamaUrl: normaliseUrl(config.get('externalLlamaUrl', '')),
    enabled: config.get('enabled', true),
    enabledLanguages: config.get<string[]>('enabledLanguages', ['*']),
    maxTokens: clamp(config.get('maxTokens', 64), 1, 1024),
    temperature: clamp(config.get('temperature', 0.1), 0, 2),
    debounceMs: clamp(config.get('debounceMs', 150), 0, 2000),
    requestTimeoutMs: clamp(config.get('requestTimeoutMs', 30000), 1000, 600000),
    completionList: config.get('completionList', true),
    chatMaxTokens: clamp(config.get('chatMaxTokens', 512), 16, 4096),
    editorLink: config.get('editorLink', true),
  };
}

/**
 * Whether completions are on for a language. `*` turns every language on, `!id` turns one off;
 * an exclusion wins over `*`, an explicit id wins over an exclusion.
 */
export function isLanguageEnabled(patterns: readonly string[], languageId: string): boolean {
  if (patterns.includes(languageId)) {
    return true;
  }
  if (patterns.includes(`!${languageId}`)) {
    return false;
  }
  return patterns.includes('*');
}

function normaliseUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

function clamp(value: number, min: number, max: number): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    return min;
  }
  return Math.min(max, Math.max(min, value));
}
