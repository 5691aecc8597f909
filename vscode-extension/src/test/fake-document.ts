/** An in-memory TextDocument with the methods the providers call, built on the vscode double. */
import { Position, Range, Uri } from './vscode-double';

export class FakeDocument {
  readonly uri: Uri;

  constructor(
    private text: string,
    readonly languageId = 'python',
    path = '/work/example.py',
  ) {
    this.uri = Uri.file(path);
  }

  offsetAt(position: Position): number {
    const lines = this.text.split('\n');
    let offset = 0;
    for (let i = 0; i < position.line && i < lines.length; i++) {
      offset += lines[i].length + 1;
    }
    return Math.min(this.text.length, offset + position.character);
  }

  positionAt(offset: number): Position {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    const before = this.text.slice(0, clamped).split('\n');
    return new Position(before.length - 1, before[before.length - 1].length);
  }

  getText(range?: Range): string {
    if (!range) {
      return this.text;
    }
    return this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end));
  }

  getWordRangeAtPosition(position: Position): Range | undefined {
    const line = this.text.split('\n')[position.line] ?? '';
    let start = position.character;
    while (start > 0 && /\w/.test(line[start - 1])) {
      start--;
    }
    let end = position.character;
    while (end < line.length && /\w/.test(line[end])) {
      end++;
    }
    return start === end ? undefined : new Range(new Position(position.line, start), new Position(position.line, end));
  }

  /** The position just after `marker`'s first occurrence. */
  after(marker: string): Position {
    const index = this.text.indexOf(marker);
    if (index < 0) {
      throw new Error(`marker ${marker} not in document`);
    }
    return this.positionAt(index + marker.length);
  }

  setText(text: string): void {
    this.text = text;
  }
}
