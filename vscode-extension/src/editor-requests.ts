/** Answers the editor link's requests from VS Code's state: open files, selection, diagnostics, edits. */
import * as path from 'path';
import * as vscode from 'vscode';
import { EditorRequestHandler, WireRange, WireTextEdit, applyTextEdits, parseEditParams } from './editor-protocol';
import { ResultDocuments } from './result-documents';

const SEVERITY: Record<number, string> = {
  [vscode.DiagnosticSeverity.Error]: 'error',
  [vscode.DiagnosticSeverity.Warning]: 'warning',
  [vscode.DiagnosticSeverity.Information]: 'information',
  [vscode.DiagnosticSeverity.Hint]: 'hint',
};

export class VsCodeEditorRequests implements EditorRequestHandler {
  constructor(private readonly results: ResultDocuments) {}

  async handle(method: string, params: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case 'getOpenFiles':
        return this.openFiles(params.includeText === true);
      case 'getSelection':
        return this.selection();
      case 'getDiagnostics':
        return this.diagnostics(typeof params.path === 'string' ? params.path : typeof params.uri === 'string' ? params.uri : undefined);
      case 'previewEdit':
        return this.previewEdit(params);
      case 'applyEdit':
        return this.applyEdit(params);
      default:
        throw new Error(`unknown method "${method}"`);
    }
  }

  private openFiles(includeText: boolean): unknown[] {
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    const tabs = new Set<string>();
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        if (tab.input instanceof vscode.TabInputText) {
          tabs.add(tab.input.uri.toString());
        }
      }
    }
    return vscode.workspace.textDocuments
      .filter((d) => (d.uri.scheme === 'file' || d.uri.scheme === 'untitled') && tabs.has(d.uri.toString()))
      .map((d) => ({
        uri: d.uri.toString(),
        path: d.uri.scheme === 'file' ? d.uri.fsPath : null,
        languageId: d.languageId,
        isDirty: d.isDirty,
        isActive: d.uri.toString() === active,
        lineCount: d.lineCount,
        ...(includeText ? { text: d.getText() } : {}),
      }));
  }

  private selection(): unknown {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      return null;
    }
    const { document, selection } = editor;
    return {
      uri: document.uri.toString(),
      path: document.uri.scheme === 'file' ? document.uri.fsPath : null,
      languageId: document.languageId,
      text: document.getText(selection),
      range: wireRange(selection),
      cursor: { line: selection.active.line, character: selection.active.character },
    };
  }

  private diagnostics(target: string | undefined): unknown[] {
    let all: [vscode.Uri, readonly vscode.Diagnostic[]][];
    if (target) {
      const uri = this.resolve(target.includes('://') ? { uri: target } : { path: target });
      all = [[uri, vscode.languages.getDiagnostics(uri)]];
    } else {
      all = vscode.languages.getDiagnostics().filter(([, list]) => list.length > 0);
    }
    return all
      .map(([uri, list]) => ({
        uri: uri.toString(),
        path: uri.scheme === 'file' ? uri.fsPath : null,
        diagnostics: list.map((d) => ({
          range: wireRange(d.range),
          severity: SEVERITY[d.severity] ?? 'error',
          message: d.message,
          source: d.source ?? null,
          code: typeof d.code === 'object' ? String(d.code.value) : (d.code ?? null),
        })),
      }));
  }

  private async previewEdit(params: Record<string, unknown>): Promise<unknown> {
    const edit = parseEditParams(params);
    const uri = this.resolve(edit);
    const document = await vscode.workspace.openTextDocument(uri);
    const current = document.getText();
    const proposed = edit.text ?? applyTextEdits(current, edit.edits ?? []);
    const preview = this.results.create(path.basename(uri.path), proposed);
    await vscode.commands.executeCommand('vscode.diff', uri, preview, `${path.basename(uri.path)} ↔ Pylot's proposal`, {
      preview: true,
    });
    return { previewed: true, uri: uri.toString() };
  }

  private async applyEdit(params: Record<string, unknown>): Promise<unknown> {
    const edit = parseEditParams(params);
    const uri = this.resolve(edit);
    const document = await vscode.workspace.openTextDocument(uri);
    const workspaceEdit = new vscode.WorkspaceEdit();
    const edits: WireTextEdit[] =
      edit.text !== undefined
        ? [{ range: wireRange(new vscode.Range(0, 0, document.lineCount, 0)), newText: edit.text }]
        : (edit.edits ?? []);
    for (const e of edits) {
      workspaceEdit.replace(uri, vsRange(document, e.range), e.newText);
    }
    // Applied to the buffer, not saved: the user sees it, can undo it, and decides to save.
    const applied = await vscode.workspace.applyEdit(workspaceEdit);
    return { applied, uri: uri.toString(), saved: false };
  }

  private resolve(target: { path?: string; uri?: string }): vscode.Uri {
    if (target.uri) {
      return vscode.Uri.parse(target.uri, true);
    }
    const p = target.path ?? '';
    if (path.isAbsolute(p)) {
      return vscode.Uri.file(p);
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      throw new Error(`relative path "${p}" but no workspace folder is open`);
    }
    return vscode.Uri.joinPath(folder.uri, p);
  }
}

function wireRange(range: vscode.Range): WireRange {
  return {
    start: { line: range.start.line, character: range.start.character },
    end: { line: range.end.line, character: range.end.character },
  };
}

function vsRange(document: vscode.TextDocument, range: WireRange): vscode.Range {
  return document.validateRange(
    new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character),
  );
}
