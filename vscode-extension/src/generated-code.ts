/** Where code generated from a comment or a signature goes, and how it is indented. */
import { GenerateKind } from './chat-prompts';
import { indentOf, reindent } from './code-text';

const COMMENT = /^\s*(#|\/\/|\/\*|\*|--|;|%|<!--)/;
const SIGNATURE = [
  /^\s*(?:async\s+)?(?:def|class)\s+\w+/,
  /^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\b/,
  /^\s*(?:export\s+)?(?:abstract\s+)?class\s+\w+/,
  /^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?fn\s+\w+/,
  /^\s*func\s+/,
  // C-family: a return type (or modifiers) before `name(args)`, optionally the opening brace.
  /^\s*(?!(?:return|if|while|for|switch|else|throw|new|await|yield|case)\b)(?:[\w<>[\],*&:.?]+\s+)+[A-Za-z_$][\w$]*\s*\([^)]*\)\s*(?::\s*[^{=]+)?\s*(?:const\s*)?\{?\s*$/,
  // A method in a class body: `name(args) {` or `async name(args): T {`.
  /^\s*(?:async\s+)?[A-Za-z_$][\w$]*\s*\([^)]*\)\s*(?::\s*[^{=]+)?\s*\{\s*$/,
];

/** 'comment' or 'signature', or undefined when the line gives nothing to generate from. */
export function classifyLine(line: string): GenerateKind | undefined {
  if (line.trim() === '') {
    return undefined;
  }
  if (COMMENT.test(line)) {
    return 'comment';
  }
  return SIGNATURE.some((p) => p.test(line)) ? 'signature' : 'comment';
}

export interface Placement {
  /** Replace the cursor line (the code repeats the signature), or insert after it. */
  replaceLine: boolean;
  text: string;
}

/**
 * `context` is the code before the line (what the model saw): lines of it that the model echoes before the
 * definition are dropped instead of being inserted twice.
 */
export function placeGeneratedCode(line: string, code: string, kind: GenerateKind, indentUnit: string, context = ''): Placement {
  const indent = indentOf(line);
  const lines = code.split('\n');
  const known = new Set(context.split('\n').map((l) => l.trim()).filter((l) => l !== ''));
  const name = definedName(line);
  const header = name ? lines.findIndex((l) => classifyLine(l) === 'signature' && definedName(l) === name) : -1;
  const echoed = (l: string) => known.has(l.trim());
  if (kind === 'comment') {
    return { replaceLine: false, text: reindent(dropLeading(lines, echoed).join('\n'), indent) };
  }
  if (header >= 0) {
    // The code repeats the definition: it replaces the signature line. New lines above it (an import) stay.
    const preamble = lines.slice(0, header).filter((l) => !echoed(l));
    const kept = [...dropLeading(preamble, () => false), ...lines.slice(header)];
    return { replaceLine: true, text: reindent(kept.join('\n'), indent) };
  }
  return { replaceLine: false, text: reindent(code, indent + indentUnit) };
}

/** Without the leading lines that `drop` says were echoed, nor the blank lines among them. */
function dropLeading(lines: string[], drop: (line: string) => boolean): string[] {
  let i = 0;
  while (i < lines.length && (drop(lines[i]) || lines[i].trim() === '')) {
    i++;
  }
  return lines.slice(i);
}

function definedName(line: string): string | undefined {
  return (/(?:def|class|function|fn|func)\s+([A-Za-z_$][\w$]*)/.exec(line) ?? /([A-Za-z_$][\w$]*)\s*\(/.exec(line))?.[1];
}
