/** Small text helpers for code that comes back from chat: fences, indentation. */

/** The code in a chat answer: the first fenced block, or the whole answer when it has none. */
export function extractCode(answer: string): string {
  const text = answer.replace(/\r\n?/g, '\n');
  const fence = /```[^\n`]*\n([\s\S]*?)(?:\n```|$)/.exec(text);
  const code = fence ? fence[1] : text;
  return code.replace(/^\s*\n/, '').replace(/\s+$/, '');
}

export function indentOf(line: string): string {
  return /^[ \t]*/.exec(line)?.[0] ?? '';
}

/** The leading whitespace shared by every non-blank line. */
export function commonIndent(lines: readonly string[]): string {
  let common: string | undefined;
  for (const line of lines) {
    if (line.trim() === '') {
      continue;
    }
    const indent = indentOf(line);
    if (common === undefined) {
      common = indent;
      continue;
    }
    let i = 0;
    while (i < common.length && i < indent.length && common[i] === indent[i]) {
      i++;
    }
    common = common.slice(0, i);
  }
  return common ?? '';
}

/** Re-indents a block: strips its common indentation, then puts `indent` in front of every non-blank line. */
export function reindent(code: string, indent: string): string {
  const lines = code.split('\n');
  const strip = commonIndent(lines).length;
  return lines.map((line) => (line.trim() === '' ? '' : indent + line.slice(strip))).join('\n');
}

export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}
