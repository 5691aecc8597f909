/** Reading the text around the cursor out of a VS Code document, no more of it than the budgets need. */
import * as vscode from 'vscode';
import { PREFIX_CHARS, SUFFIX_CHARS } from './completion-context';
import { CompletionQuery } from './completion-engine';

/** Extra characters read beyond the budgets, so that a cut can fall on a line boundary. */
const MARGIN = 256;

export function queryAt(document: vscode.TextDocument, position: vscode.Position): CompletionQuery {
  const offset = document.offsetAt(position);
  const start = document.positionAt(Math.max(0, offset - PREFIX_CHARS - MARGIN));
  const end = document.positionAt(offset + SUFFIX_CHARS + MARGIN);
  return {
    document: document.uri.toString(),
    offset,
    languageId: document.languageId,
    text: {
      before: document.getText(new vscode.Range(start, position)),
      after: document.getText(new vscode.Range(position, end)),
    },
  };
}
