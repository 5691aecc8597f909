/** "Refactor…": for now a short menu over VS Code's own rename and refactoring commands. */

export interface RefactorChoice {
  label: string;
  description: string;
  command: string;
  args?: unknown[];
}

export const REFACTOR_CHOICES: readonly RefactorChoice[] = [
  { label: '$(edit) Rename Symbol', description: 'F2', command: 'editor.action.rename' },
  {
    label: '$(symbol-method) Extract…',
    description: 'function, method, variable or constant',
    command: 'editor.action.codeAction',
    args: [{ kind: 'refactor.extract' }],
  },
  { label: '$(fold-up) Inline…', description: 'inline a variable or function', command: 'editor.action.codeAction', args: [{ kind: 'refactor.inline' }] },
  { label: '$(lightbulb) All Refactorings…', description: 'Ctrl+Shift+R', command: 'editor.action.refactor' },
];

export interface RefactorMenuDeps {
  pick: (choices: readonly RefactorChoice[]) => Thenable<RefactorChoice | undefined>;
  run: (command: string, ...args: unknown[]) => Thenable<unknown>;
}

export class RefactorMenu {
  constructor(private readonly deps: RefactorMenuDeps) {}

  async open(): Promise<void> {
    const choice = await this.deps.pick(REFACTOR_CHOICES);
    if (choice) {
      await this.deps.run(choice.command, ...(choice.args ?? []));
    }
  }
}
