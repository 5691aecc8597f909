/**
 * Warm-up where the cursor lands: when the user opens a file or switches to one, one request with
 * `max_tokens: 0` and the prompt a keystroke there would send. The server puts that prompt into its KV
 * cache without generating, so the first keystroke evaluates only what was typed (llama.vscode does the
 * same on open and on editor change). Best effort: never awaited by anyone, failures only logged at debug.
 */
import type * as vscode from 'vscode';
import { CompletionBackend } from './completion-engine';
import { CursorText, buildPromptWindow } from './completion-context';
import { queryAt } from './document-query';
import { Logger } from './logger';
import { Schedule } from './schedule';

/** The pause after an editor change: flipping through tabs warms up only the one the user stops at. */
export const WARMUP_DELAY_MS = 300;

/** Where to warm up: the active editor's document and cursor. */
export interface WarmupTarget {
  document: string;
  version: number;
  line: number;
  languageId: string;
  text: CursorText;
}

export interface EditorWarmupDeps {
  backend: CompletionBackend;
  /** The active editor's cursor, read when the pause ends; undefined when there is none to warm up. */
  target: () => WarmupTarget | undefined;
  isActiveFor: (languageId: string) => boolean;
  temperature: () => number;
  schedule: Schedule;
  log: Logger;
}

export class EditorWarmup {
  private cancelPause: (() => void) | undefined;
  private inflight: AbortController | undefined;
  /** The last place warmed up. Only the last: the server's cache holds one prompt, so coming back to a
   * file after another one was warmed up is worth a warm-up again. */
  private warmed: string | undefined;

  constructor(private readonly deps: EditorWarmupDeps) {}

  /** A file opened or another editor became active: warm up for the active editor after a short pause. */
  editorChanged(): void {
    this.cancelPause?.();
    this.cancelPause = this.deps.schedule(() => {
      this.cancelPause = undefined;
      void this.warm();
    }, WARMUP_DELAY_MS);
  }

  /** The server (re)started: its cache is empty, so the place warmed up last needs it again. */
  serverUp(): void {
    this.warmed = undefined;
    this.editorChanged();
  }

  dispose(): void {
    this.cancelPause?.();
    this.inflight?.abort();
  }

  private async warm(): Promise<void> {
    const { backend, log } = this.deps;
    const target = this.deps.target();
    if (!target || !this.deps.isActiveFor(target.languageId)) {
      return;
    }
    const place = `${target.document}@${target.version}:${target.line}`;
    if (place === this.warmed) {
      return;
    }
    this.inflight?.abort();
    const controller = new AbortController();
    this.inflight = controller;
    const window = buildPromptWindow(target.text);
    try {
      const result = await backend.complete(
        {
          prompt: window.prompt,
          suffix: window.suffix,
          max_tokens: 0,
          temperature: this.deps.temperature(),
        },
        controller.signal,
      );
      this.warmed = place;
      log.debug(`warm-up: ${result.latencyMs} ms for ${window.prompt.length + window.suffix.length} chars`);
    } catch (err) {
      log.debug(`warm-up skipped: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      if (this.inflight === controller) {
        this.inflight = undefined;
      }
    }
  }
}

/** The warm-up target for an editor whose document has one of `schemes` (not the output panel, say). */
export function targetOf(editor: vscode.TextEditor | undefined, schemes: readonly string[]): WarmupTarget | undefined {
  if (!editor || !schemes.includes(editor.document.uri.scheme)) {
    return undefined;
  }
  const position = editor.selection.active;
  const query = queryAt(editor.document, position);
  return {
    document: query.document,
    version: editor.document.version,
    line: position.line,
    languageId: query.languageId,
    text: query.text,
  };
}
