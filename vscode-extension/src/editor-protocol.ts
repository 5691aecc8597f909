/**
 * The editor link's messages (JSON over the WebSocket at /ws/editor) and the pure pieces of handling them.
 *   editor -> server  {"type":"hello","editor":"vscode","version":...,"workspace":[...]}
 *   server -> editor  {"type":"request","id":N,"method":...,"params":{...}}
 *   editor -> server  {"type":"response","id":N,"result":...} or {"type":"response","id":N,"error":"..."}
 * Positions are LSP-style: 0-based line and character.
 */

export const EDITOR_METHODS = ['getOpenFiles', 'getSelection', 'getDiagnostics', 'previewEdit', 'applyEdit'] as const;
export type EditorMethod = (typeof EDITOR_METHODS)[number];

/** Whoever answers the server's requests (the VS Code side is editor-requests.ts). */
export interface EditorRequestHandler {
  /** The result (JSON-serialisable), or a thrown Error whose message goes back as the error. */
  handle(method: string, params: Record<string, unknown>): Promise<unknown>;
}

export interface HelloMessage {
  type: 'hello';
  editor: 'vscode';
  version: string;
  vscode_version: string;
  workspace: string[];
}

export interface RequestMessage {
  type: 'request';
  id: number;
  method: string;
  params: Record<string, unknown>;
}

export type ResponseMessage =
  | { type: 'response'; id: number; result: unknown }
  | { type: 'response'; id: number; error: string };

export interface WirePosition {
  line: number;
  character: number;
}

export interface WireRange {
  start: WirePosition;
  end: WirePosition;
}

export interface WireTextEdit {
  range: WireRange;
  newText: string;
}

/** What previewEdit and applyEdit take: a file and either edits or the whole new text. */
export interface EditParams {
  path?: string;
  uri?: string;
  edits?: WireTextEdit[];
  text?: string;
}

/** A request from the server, or undefined for anything else (unknown types are ignored, not fatal). */
export function parseServerMessage(raw: string): RequestMessage | undefined {
  let message: unknown;
  try {
    message = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(message) || message.type !== 'request' || typeof message.id !== 'number' || typeof message.method !== 'string') {
    return undefined;
  }
  return {
    type: 'request',
    id: message.id,
    method: message.method,
    params: isObject(message.params) ? message.params : {},
  };
}

/** `http://host:8080` -> `ws://host:8080/ws/editor`. */
export function editorSocketUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws/editor`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

export function parseEditParams(params: Record<string, unknown>): EditParams {
  const path = typeof params.path === 'string' ? params.path : undefined;
  const uri = typeof params.uri === 'string' ? params.uri : undefined;
  if (!path && !uri) {
    throw new Error('params need "path" or "uri"');
  }
  if (typeof params.text === 'string') {
    return { path, uri, text: params.text };
  }
  if (!Array.isArray(params.edits)) {
    throw new Error('params need "edits" (a list of {range, newText}) or "text"');
  }
  const edits = params.edits.map((edit, i) => {
    if (!isObject(edit) || typeof edit.newText !== 'string' || !isRange(edit.range)) {
      throw new Error(`edits[${i}] must be {range: {start: {line, character}, end: {line, character}}, newText: string}`);
    }
    return { range: edit.range, newText: edit.newText };
  });
  return { path, uri, edits };
}

/** The text after the edits (non-overlapping; applied from the end so earlier offsets stay valid). */
export function applyTextEdits(text: string, edits: readonly WireTextEdit[]): string {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\n') {
      lineStarts.push(i + 1);
    }
  }
  const offset = (p: WirePosition): number => {
    if (p.line >= lineStarts.length) {
      return text.length;
    }
    const start = lineStarts[p.line];
    const end = p.line + 1 < lineStarts.length ? lineStarts[p.line + 1] - 1 : text.length;
    return Math.min(start + p.character, end);
  };
  const sorted = edits
    .map((e) => ({ start: offset(e.range.start), end: offset(e.range.end), newText: e.newText }))
    .sort((a, b) => b.start - a.start);
  let result = text;
  let previousStart = Number.POSITIVE_INFINITY;
  for (const edit of sorted) {
    if (edit.end > previousStart || edit.end < edit.start) {
      throw new Error('edits overlap or have a range that ends before it starts');
    }
    result = result.slice(0, edit.start) + edit.newText + result.slice(edit.end);
    previousStart = edit.start;
  }
  return result;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPosition(value: unknown): value is WirePosition {
  return (
    isObject(value) &&
    Number.isInteger(value.line) &&
    Number.isInteger(value.character) &&
    (value.line as number) >= 0 &&
    (value.character as number) >= 0
  );
}

function isRange(value: unknown): value is WireRange {
  return isObject(value) && isPosition(value.start) && isPosition(value.end);
}
