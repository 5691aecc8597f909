/**
 * Read-only documents for what the commands produce (explanations, the server status, edit previews), so
 * that closing them never asks "save changes?".
 */
import * as vscode from 'vscode';

export const RESULT_SCHEME = 'gc-forged-pylot';

export class ResultDocuments implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private counter = 0;
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }

  /** A new document with this content; `name` ends in the extension that picks the language (.md, .py). */
  create(name: string, content: string): vscode.Uri {
    // Keep the last few only: results are looked at once.
    if (this.contents.size > 20) {
      const oldest = this.contents.keys().next().value;
      if (oldest !== undefined) {
        this.contents.delete(oldest);
      }
    }
    const uri = vscode.Uri.from({ scheme: RESULT_SCHEME, path: `/${++this.counter}/${name}` });
    this.contents.set(uri.toString(), content);
    this.changed.fire(uri);
    return uri;
  }

  /** Shows Markdown rendered beside the editor (falls back to the source when the preview is unavailable). */
  async showMarkdown(name: string, markdown: string): Promise<void> {
    const uri = this.create(name, markdown);
    try {
      await vscode.commands.executeCommand('markdown.showPreviewToSide', uri);
    } catch {
      const document = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}
