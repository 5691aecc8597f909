/** Wiring only: builds each piece with what it needs and registers it with VS Code. */
import * as vscode from 'vscode';
import WebSocket from 'ws';
import { AdaptiveDebounce } from './adaptive-debounce';
import { ApiKeyStore } from './api-key-store';
import { PylotClient } from './api-client';
import { AssistantCommands } from './assistant-commands';
import { BackendSync } from './backend-sync';
import { CompletionEngine } from './completion-engine';
import { CompletionListProvider } from './completion-list-provider';
import { EditorLink } from './editor-link';
import { EditorWarmup, targetOf } from './editor-warmup';
import { VsCodeEditorRequests } from './editor-requests';
import { FeedbackTracker } from './feedback';
import { ACCEPT_COMMAND, InlineSuggestionProvider } from './inline-provider';
import { RefactorMenu } from './refactor-menu';
import { RESULT_SCHEME, ResultDocuments } from './result-documents';
import { timerSchedule } from './schedule';
import { ServerMonitor } from './server-monitor';
import { ServerState } from './server-state';
import { PylotSettings, SECTION, isLanguageEnabled, readSettings } from './settings';
import { STATUS_COMMAND, StatusBarView, TOGGLE_COMMAND } from './status-bar';
import { statusMarkdown, statusSummary } from './status-report';
import { SuggestionCache } from './suggestion-cache';

const SCHEMES = ['file', 'untitled', 'vscode-remote', 'vscode-notebook-cell'];
const SELECTOR: vscode.DocumentSelector = SCHEMES.map((scheme) => ({ scheme }));

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('GC-Forged-Pylot', { log: true });
  let settings: PylotSettings = readSettings(vscode.workspace.getConfiguration(SECTION));
  const current = () => settings;

  const keys = new ApiKeyStore(context.secrets, () => current().apiKeySetting);
  const client = new PylotClient({
    baseUrl: () => current().serverUrl,
    apiKey: () => keys.get(),
    timeoutMs: () => current().requestTimeoutMs,
    sessionId: () => vscode.env.sessionId,
  });

  const statusItem = vscode.window.createStatusBarItem('gcForgedPylot.status', vscode.StatusBarAlignment.Right, 100);
  statusItem.name = 'GC-Forged-Pylot';
  const view = new StatusBarView(statusItem, () => current().serverUrl);
  // The monitor and the state know each other; neither calls the other before monitor.start() below.
  const monitor = new ServerMonitor({
    probe: () => client.health(),
    state: { serverUp: () => state.serverUp(), serverDown: (message) => state.serverDown(message) },
    log,
  });
  const state = new ServerState(
    (s) => view.render(s),
    () => monitor.reportUnreachable(),
  );

  const cache = new SuggestionCache();
  const engine = new CompletionEngine({
    backend: client,
    cache,
    debounce: new AdaptiveDebounce({ baseMs: () => current().debounceMs }),
    options: () => ({ maxTokens: current().maxTokens, temperature: current().temperature }),
    observer: state,
    log,
  });
  const feedback = new FeedbackTracker(client, log);
  const isActiveFor = (languageId: string) => current().enabled && isLanguageEnabled(current().enabledLanguages, languageId);
  const warmup = new EditorWarmup({
    backend: client,
    target: () => targetOf(vscode.window.activeTextEditor, SCHEMES),
    isActiveFor,
    temperature: () => current().temperature,
    schedule: timerSchedule,
    log,
  });

  const results = new ResultDocuments();
  const assistant = new AssistantCommands(
    client,
    () => ({ max_tokens: current().chatMaxTokens, temperature: current().temperature }),
    results,
    log,
  );
  const refactor = new RefactorMenu({
    pick: (choices) => vscode.window.showQuickPick(choices, { placeHolder: 'Refactor' }),
    run: (command, ...args) => vscode.commands.executeCommand(command, ...args),
  });
  const backend = new BackendSync(client, log);
  const link = new EditorLink({
    serverUrl: () => current().serverUrl,
    apiKey: () => keys.get(),
    hello: () => ({
      type: 'hello',
      editor: 'vscode',
      version: String(context.extension.packageJSON.version ?? '0.0.0'),
      vscode_version: vscode.version,
      workspace: (vscode.workspace.workspaceFolders ?? []).map((f) => (f.uri.scheme === 'file' ? f.uri.fsPath : f.uri.toString())),
    }),
    handler: new VsCodeEditorRequests(results),
    connect: (url, headers) => new WebSocket(url, { headers, handshakeTimeout: 10_000 }),
    log,
  });

  monitor.onServerUp(() => {
    void backend.flush();
    link.nudge();
    warmup.serverUp();
  });

  context.subscriptions.push(
    log,
    statusItem,
    results,
    vscode.workspace.registerTextDocumentContentProvider(RESULT_SCHEME, results),
    vscode.languages.registerInlineCompletionItemProvider(SELECTOR, new InlineSuggestionProvider(engine, feedback, isActiveFor)),
    vscode.languages.registerCompletionItemProvider(
      SELECTOR,
      new CompletionListProvider(engine, (languageId) => current().completionList && isActiveFor(languageId)),
    ),
    vscode.commands.registerCommand(ACCEPT_COMMAND, (id: string) => feedback.accepted(id)),
    vscode.commands.registerCommand('gcForgedPylot.dismissSuggestion', async () => {
      await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
      feedback.dismissed();
    }),
    vscode.commands.registerTextEditorCommand('gcForgedPylot.generateCode', (editor) => assistant.generateCode(editor)),
    vscode.commands.registerTextEditorCommand('gcForgedPylot.explainSelection', (editor) => assistant.explainSelection(editor)),
    vscode.commands.registerTextEditorCommand('gcForgedPylot.generateTests', (editor) => assistant.generateTests(editor)),
    vscode.commands.registerTextEditorCommand('gcForgedPylot.generateDocstring', (editor) => assistant.generateDocstring(editor)),
    vscode.commands.registerCommand('gcForgedPylot.refactor', () => refactor.open()),
    vscode.commands.registerCommand(TOGGLE_COMMAND, () =>
      vscode.workspace.getConfiguration(SECTION).update('enabled', !current().enabled, vscode.ConfigurationTarget.Global),
    ),
    vscode.commands.registerCommand(STATUS_COMMAND, async () => {
      try {
        const status = await client.status();
        await results.showMarkdown('Pylot status.md', statusMarkdown(status, current().serverUrl));
        log.info(`server status: ${statusSummary(status)}`);
      } catch (err) {
        const choice = await vscode.window.showErrorMessage(`Pylot: ${err instanceof Error ? err.message : String(err)}`, 'Show Log');
        if (choice) {
          log.show();
        }
      }
    }),
    vscode.commands.registerCommand('gcForgedPylot.setApiKey', async () => {
      const key = await vscode.window.showInputBox({
        title: 'Pylot API key',
        prompt: 'Kept in VS Code secret storage. Leave empty to remove it.',
        password: true,
        ignoreFocusOut: true,
      });
      if (key !== undefined) {
        await keys.set(key);
        link.reconnect();
        void monitor.checkNow();
      }
    }),
    vscode.commands.registerCommand('gcForgedPylot.showLog', () => log.show()),
    context.secrets.onDidChange((e) => {
      if (e.key === ApiKeyStore.secretKey) {
        keys.invalidate();
        link.reconnect();
      }
    }),
    vscode.workspace.onDidCloseTextDocument((document) => cache.forget(document.uri.toString())),
    vscode.window.onDidChangeActiveTextEditor(() => warmup.editorChanged()),
    vscode.workspace.onDidChangeWorkspaceFolders(() => link.reconnect()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!event.affectsConfiguration(SECTION)) {
        return;
      }
      const before = settings;
      settings = readSettings(vscode.workspace.getConfiguration(SECTION));
      log.info('settings changed');
      if (before.serverUrl !== settings.serverUrl || before.apiKeySetting !== settings.apiKeySetting) {
        cache.clear();
        void monitor.checkNow();
        link.reconnect();
      }
      if (before.enabled !== settings.enabled) {
        state.setEnabled(settings.enabled);
        if (!settings.enabled) {
          engine.cancel();
        }
      }
      if (before.useExternalLlama !== settings.useExternalLlama || before.externalLlamaUrl !== settings.externalLlamaUrl) {
        void backend.apply(settings);
      }
      if (before.editorLink !== settings.editorLink) {
        if (settings.editorLink) {
          link.start();
        } else {
          link.stop();
        }
      }
    }),
    { dispose: () => (monitor.stop(), link.stop(), engine.cancel(), warmup.dispose()) },
  );

  state.setEnabled(settings.enabled);
  monitor.start();
  if (settings.editorLink) {
    link.start();
  }
  if (explicitlySet(vscode.workspace.getConfiguration(SECTION), ['useExternalLlama', 'externalLlamaUrl'])) {
    void backend.apply(settings);
  }
  warmup.editorChanged(); // the file open at start-up
  log.info(`activated; server ${settings.serverUrl}`);
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

/** Whether the user set any of these keys themselves (defaults are not pushed to the server). */
function explicitlySet(config: vscode.WorkspaceConfiguration, keys: string[]): boolean {
  return keys.some((key) => {
    const inspected = config.inspect(key);
    return inspected?.globalValue !== undefined || inspected?.workspaceValue !== undefined || inspected?.workspaceFolderValue !== undefined;
  });
}
