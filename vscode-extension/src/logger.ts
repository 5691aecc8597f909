/**
 * The logging surface every class receives. VS Code's LogOutputChannel satisfies it, tests pass a recorder.
 * Never pass user code or prompts at info level and above: log sizes, ids and timings instead.
 */
export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
}

/** A logger that drops everything, for code paths that do not care. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
