/** Ghost text: VS Code asks, the engine answers; Tab accepts (word and line acceptance are VS Code's own). */
import * as vscode from 'vscode';
import { CompletionQuery, Suggestion } from './completion-engine';
import { queryAt } from './document-query';

export const ACCEPT_COMMAND = 'gcForgedPylot.didAcceptSuggestion';

export interface SuggestionSource {
  suggest(query: CompletionQuery, signal: AbortSignal): Promise<Suggestion | undefined>;
  /** Only what is cached, without a request. */
  peek(query: CompletionQuery): Suggestion | undefined;
}

/** The part of FeedbackTracker the provider reports to. */
export interface ShownSuggestions {
  shown(id: string, language: string): void;
  nothingShown(): void;
}

export class InlineSuggestionProvider implements vscode.InlineCompletionItemProvider {
  constructor(
    private readonly source: SuggestionSource,
    private readonly feedback: ShownSuggestions,
    private readonly isActiveFor: (languageId: string) => boolean,
  ) {}

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    // While the suggest widget is open its selection owns the ghost text.
    if (!this.isActiveFor(document.languageId) || context.selectedCompletionInfo || token.isCancellationRequested) {
      return undefined;
    }
    const controller = new AbortController();
    const subscription = token.onCancellationRequested(() => controller.abort());
    try {
      const suggestion = await this.source.suggest(queryAt(document, position), controller.signal);
      // A cancelled call was superseded by a newer one, which does the bookkeeping.
      if (token.isCancellationRequested) {
        return undefined;
      }
      if (!suggestion) {
        this.feedback.nothingShown();
        return undefined;
      }
      this.feedback.shown(suggestion.id, document.languageId);
      return [
        new vscode.InlineCompletionItem(suggestion.text, new vscode.Range(position, position), {
          title: 'Accept Pylot suggestion',
          command: ACCEPT_COMMAND,
          arguments: [suggestion.id],
        }),
      ];
    } finally {
      subscription.dispose();
    }
  }
}
