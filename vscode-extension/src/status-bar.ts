/** The status-bar item: ready / working / error with the last latency. Renders ServerState, nothing more. */
import * as vscode from 'vscode';
import { StatusState } from './server-state';

export const STATUS_COMMAND = 'gcForgedPylot.showStatus';
export const TOGGLE_COMMAND = 'gcForgedPylot.toggleCompletions';

/** The part of vscode.StatusBarItem this view sets. */
export interface StatusBarItemLike {
  text: string;
  tooltip: string | vscode.MarkdownString | undefined;
  command: string | vscode.Command | undefined;
  backgroundColor: vscode.ThemeColor | undefined;
  accessibilityInformation: vscode.AccessibilityInformation | undefined;
  show(): void;
}

export class StatusBarView {
  constructor(
    private readonly item: StatusBarItemLike,
    private readonly serverUrl: () => string,
  ) {}

  render(state: StatusState): void {
    const latency = 'latencyMs' in state && state.latencyMs !== undefined ? ` ${Math.round(state.latencyMs)} ms` : '';
    let text: string;
    let label: string;
    let tooltip: string;
    let background: vscode.ThemeColor | undefined;
    let command = STATUS_COMMAND;
    switch (state.kind) {
      case 'starting':
        text = '$(sync~spin) Pylot';
        label = 'Pylot: connecting';
        tooltip = `Pylot: connecting to ${this.serverUrl()}`;
        break;
      case 'ready':
        text = `$(check) Pylot${latency}`;
        label = 'Pylot: ready';
        tooltip = `Pylot: ready at ${this.serverUrl()}${latency ? ` — last completion${latency}` : ''}. Click for the server status.`;
        break;
      case 'working':
        text = `$(loading~spin) Pylot${latency}`;
        label = 'Pylot: working';
        tooltip = 'Pylot: asking the server…';
        break;
      case 'error':
        text = state.unreachable ? '$(debug-disconnect) Pylot' : `$(error) Pylot${latency}`;
        label = state.unreachable ? 'Pylot: error: server unreachable' : 'Pylot: error';
        tooltip = `Pylot: ${state.message}${state.unreachable ? ' — retrying in the background' : ''}. Click for details.`;
        background = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
      case 'disabled':
        text = '$(circle-slash) Pylot';
        label = 'Pylot: completions disabled';
        tooltip = 'Pylot: inline completions are off. Click to turn them on.';
        command = TOGGLE_COMMAND;
        break;
    }
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.command = command;
    this.item.backgroundColor = background;
    this.item.accessibilityInformation = { label, role: 'button' };
    this.item.show();
  }
}
