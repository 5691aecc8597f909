/**
 * Documentation for the function or class at the cursor: finding it in the text, cleaning what the model
 * wrote, and the edit that puts it in place (a Python docstring under the header, a doc comment above it
 * elsewhere). Pure text in, text out; the command applies the edit.
 */
import { commonIndent, extractCode, indentOf } from './code-text';

export type DocStyle =
  | { kind: 'python' }
  | { kind: 'block'; open: string; prefix: string; close: string }
  | { kind: 'line'; prefix: string };

const JSDOC: DocStyle = { kind: 'block', open: '/**', prefix: ' * ', close: ' */' };

const STYLES: Record<string, DocStyle> = {
  python: { kind: 'python' },
  javascript: JSDOC,
  javascriptreact: JSDOC,
  typescript: JSDOC,
  typescriptreact: JSDOC,
  java: JSDOC,
  kotlin: JSDOC,
  scala: JSDOC,
  c: JSDOC,
  cpp: JSDOC,
  csharp: { kind: 'line', prefix: '/// ' },
  php: JSDOC,
  dart: { kind: 'line', prefix: '/// ' },
  swift: { kind: 'line', prefix: '/// ' },
  rust: { kind: 'line', prefix: '/// ' },
  go: { kind: 'line', prefix: '// ' },
};

export function docStyleFor(languageId: string): DocStyle | undefined {
  return STYLES[languageId];
}

/** The function or class to document; line numbers are 0-based and inclusive. */
export interface DocTarget {
  name: string;
  headerLine: number;
  /** Last line of the header (a Python signature can span lines). */
  headerEndLine: number;
  endLine: number;
  indent: string;
  /** Where an existing docstring or doc comment sits, to be replaced. */
  existing?: { startLine: number; endLine: number };
  /** Indentation of a Python body. */
  bodyIndent: string;
}

/** A replacement of whole lines: lines [startLine, endLine) become `text` (insert when they are equal). */
export interface LineEdit {
  startLine: number;
  endLine: number;
  text: string;
}

const MAX_SOURCE_LINES = 80;

export function findDocTarget(lines: readonly string[], cursorLine: number, languageId: string): DocTarget | undefined {
  const style = docStyleFor(languageId);
  if (!style || cursorLine < 0 || cursorLine >= lines.length) {
    return undefined;
  }
  return style.kind === 'python' ? findPythonTarget(lines, cursorLine) : findBraceTarget(lines, cursorLine);
}

/** The source sent to the model: the target's lines, cut to a size a small model handles. */
export function targetSource(lines: readonly string[], target: DocTarget): string {
  const end = Math.min(target.endLine, target.headerLine + MAX_SOURCE_LINES - 1);
  const block = lines.slice(target.headerLine, end + 1);
  const strip = commonIndent(block).length;
  return block.map((l) => l.slice(Math.min(strip, indentOf(l).length))).join('\n');
}

const PY_HEADER = /^([ \t]*)(?:async[ \t]+)?(def|class)[ \t]+([A-Za-z_]\w*)/;

function findPythonTarget(lines: readonly string[], cursorLine: number): DocTarget | undefined {
  // Walk up from the cursor: the first header whose body holds the cursor line encloses it.
  let minIndentBelow = Number.POSITIVE_INFINITY;
  for (let i = cursorLine; i >= 0; i--) {
    const line = lines[i];
    const match = PY_HEADER.exec(line);
    if (match) {
      const indent = match[1];
      if (i === cursorLine || minIndentBelow > indent.length || isInsideHeader(lines, i, cursorLine)) {
        return pythonSpan(lines, i, indent, match[3]);
      }
    }
    if (line.trim() !== '') {
      minIndentBelow = Math.min(minIndentBelow, indentOf(line).length);
    }
  }
  return undefined;
}

function isInsideHeader(lines: readonly string[], headerLine: number, cursorLine: number): boolean {
  return cursorLine <= pythonHeaderEnd(lines, headerLine);
}

function pythonHeaderEnd(lines: readonly string[], headerLine: number): number {
  let depth = 0;
  for (let i = headerLine; i < Math.min(lines.length, headerLine + 40); i++) {
    const code = stripPythonComment(lines[i]);
    for (const ch of code) {
      if ('([{'.includes(ch)) {
        depth++;
      } else if (')]}'.includes(ch)) {
        depth--;
      }
    }
    if (depth <= 0 && /:\s*$/.test(code)) {
      return i;
    }
  }
  return headerLine;
}

function pythonSpan(lines: readonly string[], headerLine: number, indent: string, name: string): DocTarget | undefined {
  const headerEndLine = pythonHeaderEnd(lines, headerLine);
  if (!/:\s*$/.test(stripPythonComment(lines[headerEndLine]))) {
    // `def f(): return 1` has no room for a docstring without reformatting the body.
    return undefined;
  }
  let endLine = headerEndLine;
  let firstBody: number | undefined;
  for (let i = headerEndLine + 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') {
      continue;
    }
    if (indentOf(line).length <= indent.length) {
      break;
    }
    firstBody ??= i;
    endLine = i;
  }
  const bodyIndent = firstBody !== undefined ? indentOf(lines[firstBody]) : `${indent}    `;
  let existing: DocTarget['existing'];
  if (firstBody !== undefined) {
    const quote = /^[ \t]*[rRuUbB]?("""|''')/.exec(lines[firstBody]);
    if (quote) {
      const rest = lines[firstBody].slice(quote[0].length);
      let close = rest.includes(quote[1]) ? firstBody : -1;
      for (let i = firstBody + 1; close < 0 && i <= endLine; i++) {
        if (lines[i].includes(quote[1])) {
          close = i;
        }
      }
      if (close >= 0) {
        existing = { startLine: firstBody, endLine: close };
      }
    }
  }
  return { name, headerLine, headerEndLine, endLine, indent, bodyIndent, existing };
}

function stripPythonComment(line: string): string {
  // Good enough for headers: a '#' inside a string default value is rare.
  const hash = line.indexOf('#');
  return hash >= 0 ? line.slice(0, hash) : line;
}

const BRACE_HEADERS: RegExp[] = [
  /^[ \t]*(?:export[ \t]+)?(?:default[ \t]+)?(?:async[ \t]+)?function\*?[ \t]*([A-Za-z_$][\w$]*)?[ \t]*[(<]/,
  /^[ \t]*(?:export[ \t]+)?(?:const|let|var)[ \t]+([A-Za-z_$][\w$]*)[ \t]*(?::[^=]+)?=[ \t]*(?:async[ \t]+)?(?:function\b|\([^)]*\)[^=]*=>|[A-Za-z_$][\w$]*[ \t]*=>)/,
  /^[ \t]*(?:export[ \t]+)?(?:default[ \t]+)?(?:abstract[ \t]+)?(?:public[ \t]+|private[ \t]+|internal[ \t]+)?(?:class|interface|struct|enum|trait|impl)[ \t]+([A-Za-z_$][\w$]*)/,
  /^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?(?:const[ \t]+)?(?:async[ \t]+)?(?:unsafe[ \t]+)?fn[ \t]+([A-Za-z_]\w*)/,
  /^[ \t]*func[ \t]+(?:\([^)]*\)[ \t]*)?([A-Za-z_]\w*)/,
  // A method or a C-family function: `name(args) {`, `public int name(args)`, `async name(args): T {`.
  /^[ \t]*(?:(?:public|private|protected|static|async|override|virtual|final|inline|export|readonly|get|set)[ \t]+)*(?:[\w$<>[\],.*&:]+[ \t]+)*?([A-Za-z_$][\w$]*)[ \t]*(?:<[^>]*>)?\([^;]*\)?[^;]*\{?[ \t]*$/,
];

const NOT_NAMES = new Set(['if', 'for', 'while', 'switch', 'catch', 'return', 'else', 'do', 'try', 'with', 'new', 'typeof', 'await', 'sizeof']);

function braceHeader(line: string): string | undefined {
  const trimmed = line.trim();
  if (!trimmed || /^(\/\/|\/\*|\*|#)/.test(trimmed)) {
    return undefined;
  }
  for (const pattern of BRACE_HEADERS) {
    const match = pattern.exec(line);
    if (match) {
      const name = match[1] ?? '(anonymous)';
      if (NOT_NAMES.has(name) || (pattern === BRACE_HEADERS[5] && !trimmed.includes('('))) {
        continue;
      }
      return name;
    }
  }
  return undefined;
}

function findBraceTarget(lines: readonly string[], cursorLine: number): DocTarget | undefined {
  for (let i = cursorLine; i >= 0; i--) {
    const name = braceHeader(lines[i]);
    if (name === undefined) {
      continue;
    }
    const endLine = braceBlockEnd(lines, i);
    if (endLine >= cursorLine) {
      const indent = indentOf(lines[i]);
      return { name, headerLine: i, headerEndLine: i, endLine, indent, bodyIndent: indent, existing: docCommentAbove(lines, i) };
    }
  }
  return undefined;
}

function braceBlockEnd(lines: readonly string[], headerLine: number): number {
  let depth = 0;
  let opened = false;
  for (let i = headerLine; i < lines.length; i++) {
    for (const ch of lines[i]) {
      if (ch === '{') {
        depth++;
        opened = true;
      } else if (ch === '}') {
        depth--;
      }
    }
    if (opened && depth <= 0) {
      return i;
    }
    if (!opened && i > headerLine + 5) {
      break;
    }
  }
  return headerLine;
}

/** An existing `/** ... *\/` or `///` block right above the header (decorators in between are fine). */
function docCommentAbove(lines: readonly string[], headerLine: number): DocTarget['existing'] {
  let i = headerLine - 1;
  while (i >= 0 && /^[ \t]*@/.test(lines[i])) {
    i--;
  }
  if (i < 0) {
    return undefined;
  }
  if (/\*\/[ \t]*$/.test(lines[i])) {
    for (let j = i; j >= 0; j--) {
      if (/^[ \t]*\/\*\*/.test(lines[j])) {
        return { startLine: j, endLine: i };
      }
    }
    return undefined;
  }
  if (/^[ \t]*\/\/\//.test(lines[i])) {
    let j = i;
    while (j > 0 && /^[ \t]*\/\/\//.test(lines[j - 1])) {
      j--;
    }
    return { startLine: j, endLine: i };
  }
  return undefined;
}

/**
 * A stop sequence for the chat answer: the first line of the body. The model writes the documentation
 * before it, so nothing after that line is worth waiting for.
 */
export function docstringStop(lines: readonly string[], target: DocTarget): string[] | undefined {
  for (let i = target.headerEndLine + 1; i <= target.endLine; i++) {
    const line = lines[i].trim();
    if (line && !(target.existing && i >= target.existing.startLine && i <= target.existing.endLine)) {
      return line.length >= 6 && !/^("""|'''|\/\*\*|\*|\/\/)/.test(line) ? [line] : undefined;
    }
  }
  return undefined;
}

/** The plain text of the documentation in what the model answered, or '' when there is none in it. */
export function docstringText(answer: string, style: DocStyle): string {
  let text = answer.replace(/\r\n?/g, '\n');
  if (text.includes('```')) {
    text = extractCode(text);
  }
  let body: string[] | undefined;
  const quoted = /[rRuU]?("""|''')([\s\S]*?)(?:\1|$)/.exec(text);
  const block = /\/\*\*([\s\S]*?)(?:\*\/|$)/.exec(text);
  const slashes = /^[ \t]*\/\/\/?.*(?:\n[ \t]*\/\/\/?.*)*/m.exec(text);
  if (style.kind === 'python' && quoted) {
    body = quoted[2].split('\n');
  } else if (style.kind !== 'python' && block) {
    body = block[1].split('\n').map((l) => l.replace(/^[ \t]*\*(?!\/) ?/, ''));
  } else if (style.kind !== 'python' && slashes) {
    body = slashes[0].split('\n').map((l) => l.replace(/^[ \t]*\/\/\/? ?/, ''));
  } else if (!looksLikeCode(text)) {
    body = text.split('\n');
  }
  if (!body) {
    return '';
  }
  // The first line follows the opening quotes; the rest carry the code's indentation.
  const [first, ...rest] = body;
  const strip = commonIndent(rest).length;
  const lines = [first.trim(), ...rest.map((l) => l.slice(Math.min(strip, indentOf(l).length)).replace(/\s+$/, ''))];
  while (lines.length && lines[0] === '') {
    lines.shift();
  }
  while (lines.length && lines[lines.length - 1] === '') {
    lines.pop();
  }
  const result = lines
    .filter((l, i, all) => !(l === '' && all[i - 1] === ''))
    .slice(0, 40)
    .join('\n');
  return style.kind === 'python' ? result.replace(/"""/g, '\\"\\"\\"') : result.replace(/\*\//g, '* /');
}

function looksLikeCode(text: string): boolean {
  return /^\s*(?:async\s+)?(?:def|class|function|fn|func|return|import|export|public|private|const|let|var)\b|[{};]\s*$/m.test(text);
}

/** The edit that puts `text` in place as the target's documentation. */
export function docstringEdit(target: DocTarget, text: string, style: DocStyle): LineEdit {
  const lines = text.split('\n');
  let block: string[];
  if (style.kind === 'python') {
    const indent = target.bodyIndent;
    block =
      lines.length === 1
        ? [`${indent}"""${lines[0]}"""`]
        : [`${indent}"""${lines[0]}`, ...lines.slice(1).map((l) => (l ? indent + l : '')), `${indent}"""`];
  } else if (style.kind === 'block') {
    const indent = target.indent;
    block = [
      `${indent}${style.open}`,
      ...lines.map((l) => (l ? `${indent}${style.prefix}${l}` : `${indent}${style.prefix.trimEnd()}`)),
      `${indent}${style.close}`,
    ];
  } else {
    const indent = target.indent;
    block = lines.map((l) => (l ? `${indent}${style.prefix}${l}` : `${indent}${style.prefix.trimEnd()}`));
  }
  const blockText = `${block.join('\n')}\n`;
  if (target.existing) {
    return { startLine: target.existing.startLine, endLine: target.existing.endLine + 1, text: blockText };
  }
  if (style.kind === 'python') {
    return { startLine: target.headerEndLine + 1, endLine: target.headerEndLine + 1, text: blockText };
  }
  return { startLine: target.headerLine, endLine: target.headerLine, text: blockText };
}
