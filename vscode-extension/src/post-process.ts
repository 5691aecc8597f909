/** Cleaning the model's raw text into what is shown as ghost text. */

export interface SuggestionContext {
  /** The current line after the cursor. */
  lineSuffix: string;
  /** Text after the cursor (the suffix that was sent). */
  suffix: string;
  multiline: boolean;
  maxLines?: number;
}

const DEFAULT_MAX_LINES = 16;

/** The text to show, or '' when nothing is worth showing. */
export function cleanSuggestion(raw: string, context: SuggestionContext): string {
  let text = raw.replace(/\r\n?/g, '\n');
  if (!context.multiline) {
    const newline = text.indexOf('\n');
    if (newline >= 0) {
      text = text.slice(0, newline);
    }
  }
  text = stripSuffixOverlap(text, context.lineSuffix);
  if (context.multiline) {
    text = cutAtRepeatedSuffix(text, context.suffix);
    const lines = text.split('\n');
    const maxLines = context.maxLines ?? DEFAULT_MAX_LINES;
    if (lines.length > maxLines) {
      text = lines.slice(0, maxLines).join('\n');
    }
  }
  text = text.replace(/\s+$/, '');
  return text.trim() === '' ? '' : text;
}

/**
 * The model often writes the closing characters that already follow the cursor (`foo(|)` -> `a, b)`);
 * drop the longest end of the suggestion that is a start of the rest of the line.
 */
function stripSuffixOverlap(text: string, lineSuffix: string): string {
  const rest = lineSuffix.replace(/\s+$/, '');
  if (!rest) {
    return text;
  }
  for (let k = Math.min(rest.length, text.length); k > 0; k--) {
    if (text.endsWith(rest.slice(0, k))) {
      return text.slice(0, text.length - k);
    }
  }
  return text;
}

/** A multi-line suggestion that runs into the code already below the cursor stops where that code starts. */
function cutAtRepeatedSuffix(text: string, suffix: string): string {
  const firstSuffixLine = suffix.split('\n').find((line) => line.trim() !== '')?.trim();
  if (!firstSuffixLine || firstSuffixLine.length < 4) {
    return text;
  }
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === firstSuffixLine) {
      return lines.slice(0, i).join('\n');
    }
  }
  return text;
}
