/**
 * What one completion request sends: the text around the cursor, cut to the budgets the server expects.
 * Nothing more: the server decides between a line and a block and shapes the suggestion (docs/vscode.md).
 */

export const PREFIX_CHARS = 3000;
export const SUFFIX_CHARS = 500;

/** The text around the cursor, as the editor gives it (already cut to a little more than the budgets). */
export interface CursorText {
  /** Text before the cursor; at least PREFIX_CHARS of it when the document has that much. */
  before: string;
  /** Text after the cursor; at least SUFFIX_CHARS of it when the document has that much. */
  after: string;
}

export interface PromptWindow {
  prompt: string;
  suffix: string;
}

export function buildPromptWindow(text: CursorText, prefixChars = PREFIX_CHARS, suffixChars = SUFFIX_CHARS): PromptWindow {
  let prompt = text.before.slice(-prefixChars);
  if (prompt.length < text.before.length) {
    // Do not start the model on half a line: drop the cut first line when there is more than one.
    const newline = prompt.indexOf('\n');
    if (newline >= 0 && newline < prompt.length - 1) {
      prompt = prompt.slice(newline + 1);
    }
  }
  let suffix = text.after.slice(0, suffixChars);
  if (suffix.length < text.after.length) {
    const newline = suffix.lastIndexOf('\n');
    if (newline > 0) {
      suffix = suffix.slice(0, newline + 1);
    }
  }
  return { prompt, suffix };
}
