/** The same suggestion as an item of the completion list (Ctrl+Space), for those who prefer the list. */
import * as vscode from 'vscode';
import { queryAt } from './document-query';
import { ACCEPT_COMMAND, SuggestionSource } from './inline-provider';

const LABEL_CHARS = 60;

export class CompletionListProvider implements vscode.CompletionItemProvider {
  constructor(
    private readonly source: SuggestionSource,
    private readonly isActiveFor: (languageId: string) => boolean,
  ) {}

  async provideCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    token: vscode.CancellationToken,
    context: vscode.CompletionContext,
  ): Promise<vscode.CompletionItem[] | undefined> {
    if (!this.isActiveFor(document.languageId) || token.isCancellationRequested) {
      return undefined;
    }
    const controller = new AbortController();
    const subscription = token.onCancellationRequested(() => controller.abort());
    try {
      // Only Ctrl+Space asks the server; while typing the list shows what the ghost text already fetched,
      // so that the two providers never race each other for the same keystroke.
      const query = queryAt(document, position);
      const suggestion =
        context.triggerKind === vscode.CompletionTriggerKind.Invoke
          ? await this.source.suggest(query, controller.signal)
          : this.source.peek(query);
      if (!suggestion || token.isCancellationRequested) {
        return undefined;
      }
      // The list filters on the word before the cursor, so the item has to start with that word.
      const word = document.getWordRangeAtPosition(position);
      const start = word && word.start.isBefore(position) ? word.start : position;
      const typed = document.getText(new vscode.Range(start, position));
      const full = typed + suggestion.text;
      const firstLine = full.split('\n')[0];
      const label = firstLine.length > LABEL_CHARS ? `${firstLine.slice(0, LABEL_CHARS)}…` : firstLine;
      const item = new vscode.CompletionItem({ label, description: 'Pylot' }, vscode.CompletionItemKind.Snippet);
      item.insertText = full;
      item.filterText = full;
      item.range = new vscode.Range(start, position);
      item.sortText = '\u0000';
      item.detail = 'GC-Forged-Pylot suggestion';
      item.documentation = new vscode.MarkdownString().appendCodeblock(full, document.languageId);
      item.command = { title: 'Accept Pylot suggestion', command: ACCEPT_COMMAND, arguments: [suggestion.id] };
      return [item];
    } finally {
      subscription.dispose();
    }
  }
}
