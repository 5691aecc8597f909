/**
 * The commands that ask the chat endpoint: generate a function or class, explain, generate tests, generate
 * documentation. Each shows cancellable progress; errors are shown because the user asked for something.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { ChatMessage, ChatOptions, ChatResult } from './api-client';
import { docstringMessages, explainMessages, generateCodeMessages, testMessages } from './chat-prompts';
import { extractCode, splitLines } from './code-text';
import { docStyleFor, docstringEdit, docstringStop, docstringText, findDocTarget, targetSource } from './docstring';
import { classifyLine, placeGeneratedCode } from './generated-code';
import { Logger } from './logger';
import { ResultDocuments } from './result-documents';

export interface ChatBackend {
  chat(messages: ChatMessage[], options: ChatOptions, signal?: AbortSignal): Promise<ChatResult>;
}

/** Lines of code before the cursor given to "generate code" as context. */
const CONTEXT_LINES = 60;
/** Characters of a whole file sent when there is no selection or function to work on. */
const FILE_CHARS = 6000;

export class AssistantCommands {
  constructor(
    private readonly backend: ChatBackend,
    private readonly options: () => ChatOptions,
    private readonly results: ResultDocuments,
    private readonly log: Logger,
  ) {}

  async generateCode(editor: vscode.TextEditor): Promise<void> {
    const { document } = editor;
    const lineNumber = editor.selection.active.line;
    const line = document.lineAt(lineNumber).text;
    const kind = classifyLine(line);
    if (!kind) {
      void vscode.window.showInformationMessage(
        'Pylot: write a comment describing the function or class, or its signature, then run this on that line.',
      );
      return;
    }
    const context = document.getText(new vscode.Range(Math.max(0, lineNumber - CONTEXT_LINES), 0, lineNumber, 0));
    const version = document.version;
    const answer = await this.ask('Pylot: generating code…', generateCodeMessages(document.languageId, context, line, kind));
    if (answer === undefined) {
      return;
    }
    const code = extractCode(answer);
    if (!code.trim()) {
      void vscode.window.showWarningMessage('Pylot: the model answered with no code; try again or reword the comment.');
      return;
    }
    if (!this.unchanged(document, version)) {
      return;
    }
    const placement = placeGeneratedCode(line, code, kind, indentUnit(editor), context);
    const lineRange = document.lineAt(lineNumber).range;
    await editor.edit((edit) => {
      if (placement.replaceLine) {
        edit.replace(lineRange, placement.text);
      } else {
        edit.insert(lineRange.end, `\n${placement.text}`);
      }
    });
  }

  async explainSelection(editor: vscode.TextEditor): Promise<void> {
    const code = this.selectedOrEnclosing(editor);
    if (!code) {
      void vscode.window.showInformationMessage('Pylot: select the code to explain.');
      return;
    }
    const answer = await this.ask('Pylot: explaining…', explainMessages(editor.document.languageId, code));
    if (answer !== undefined) {
      await this.results.showMarkdown('Explanation.md', answer);
    }
  }

  async generateTests(editor: vscode.TextEditor): Promise<void> {
    const { document } = editor;
    const code = this.selectedOrEnclosing(editor) ?? document.getText().slice(0, FILE_CHARS);
    if (!code.trim()) {
      void vscode.window.showInformationMessage('Pylot: there is no code here to test.');
      return;
    }
    const fileName = path.basename(document.uri.path);
    const answer = await this.ask('Pylot: writing tests…', testMessages(document.languageId, code, fileName));
    if (answer === undefined) {
      return;
    }
    const tests = extractCode(answer);
    const created = await vscode.workspace.openTextDocument({ language: document.languageId, content: `${tests}\n` });
    await vscode.window.showTextDocument(created, { viewColumn: vscode.ViewColumn.Beside });
  }

  async generateDocstring(editor: vscode.TextEditor): Promise<void> {
    const { document } = editor;
    const style = docStyleFor(document.languageId);
    if (!style) {
      void vscode.window.showInformationMessage(`Pylot: documentation comments for ${document.languageId} are not supported yet.`);
      return;
    }
    const lines = splitLines(document.getText());
    const target = findDocTarget(lines, editor.selection.active.line, document.languageId);
    if (!target) {
      void vscode.window.showInformationMessage('Pylot: put the cursor in a function or class to document it.');
      return;
    }
    const version = document.version;
    const answer = await this.ask(
      `Pylot: documenting ${target.name}…`,
      docstringMessages(document.languageId, targetSource(lines, target)),
      docstringStop(lines, target),
    );
    if (answer === undefined) {
      return;
    }
    const text = docstringText(answer, style);
    if (!text) {
      void vscode.window.showWarningMessage('Pylot: the model gave no usable documentation; try again.');
      return;
    }
    if (!this.unchanged(document, version)) {
      return;
    }
    const edit = docstringEdit(target, text, style);
    const eol = document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
    const range = new vscode.Range(edit.startLine, 0, edit.endLine, 0);
    // At the very end of a file without a final newline, the new lines need one in front.
    const atEnd = edit.startLine >= document.lineCount;
    const text0 = edit.text.replace(/\n/g, eol);
    await editor.edit((builder) => builder.replace(document.validateRange(range), atEnd ? eol + text0 : text0));
    this.log.info(`docstring inserted (${text.split('\n').length} lines)`);
  }

  /** The selection, else the function or class around the cursor, else undefined. */
  private selectedOrEnclosing(editor: vscode.TextEditor): string | undefined {
    const { document, selection } = editor;
    if (!selection.isEmpty) {
      return document.getText(selection);
    }
    const lines = splitLines(document.getText());
    const target = findDocTarget(lines, selection.active.line, document.languageId);
    return target ? lines.slice(target.headerLine, target.endLine + 1).join('\n') : undefined;
  }

  private unchanged(document: vscode.TextDocument, version: number): boolean {
    if (document.version !== version) {
      void vscode.window.showWarningMessage('Pylot: the file changed while the answer was being written; run the command again.');
      return false;
    }
    return true;
  }

  /** The chat answer, or undefined when it failed (already reported) or the user cancelled. */
  private async ask(title: string, messages: ChatMessage[], stop?: string[]): Promise<string | undefined> {
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      async (_progress, token) => {
        const controller = new AbortController();
        const subscription = token.onCancellationRequested(() => controller.abort());
        try {
          const result = await this.backend.chat(messages, { ...this.options(), ...(stop ? { stop } : {}) }, controller.signal);
          this.log.info(`chat ${result.id}: ${result.latencyMs} ms, ${result.content.length} chars`);
          return result.content;
        } catch (err) {
          if (controller.signal.aborted) {
            return undefined;
          }
          const message = err instanceof Error ? err.message : String(err);
          this.log.error(`chat request failed: ${message}`);
          void vscode.window.showErrorMessage(`Pylot: ${message}`, 'Show Log').then((choice) => {
            if (choice) {
              void vscode.commands.executeCommand('gcForgedPylot.showLog');
            }
          });
          return undefined;
        } finally {
          subscription.dispose();
        }
      },
    );
  }
}

function indentUnit(editor: vscode.TextEditor): string {
  const { insertSpaces, tabSize } = editor.options;
  return insertSpaces === false ? '\t' : ' '.repeat(typeof tabSize === 'number' ? tabSize : 4);
}
