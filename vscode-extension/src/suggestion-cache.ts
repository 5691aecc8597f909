/**
 * Suggestions already fetched, so that typing the characters shown in grey (or deleting back to where the
 * suggestion started) shows the rest at once instead of asking the server again.
 */

export interface CachedSuggestion {
  id: string;
  /** What is still left to show from the cursor on. */
  text: string;
}

/** Where a suggestion was asked for. */
export interface CacheKey {
  document: string;
  /** Cursor offset in the document. */
  offset: number;
  /** The last characters before the cursor (any length; longer is safer). */
  before: string;
  /** The characters after the cursor (any length). */
  after: string;
}

interface Entry extends CacheKey {
  id: string;
  text: string;
}

export class SuggestionCache {
  private entries: Entry[] = [];

  constructor(private readonly capacity = 64) {}

  put(key: CacheKey, suggestion: CachedSuggestion): void {
    if (!suggestion.text) {
      return;
    }
    this.entries = this.entries.filter((e) => !(e.document === key.document && e.offset === key.offset));
    this.entries.push({ ...key, ...suggestion });
    if (this.entries.length > this.capacity) {
      this.entries.shift();
    }
  }

  /** The rest of a cached suggestion that the text at `key` is a typed-along continuation of. */
  get(key: CacheKey): CachedSuggestion | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i];
      const typed = key.offset - entry.offset;
      if (entry.document !== key.document || typed < 0 || typed >= entry.text.length) {
        continue;
      }
      if (!sameStart(entry.after, key.after)) {
        continue;
      }
      const expected = entry.before + entry.text.slice(0, typed);
      const overlap = Math.min(expected.length, key.before.length);
      if (expected.slice(expected.length - overlap) !== key.before.slice(key.before.length - overlap)) {
        continue;
      }
      // Move the hit to the back so that it is the last to be evicted.
      this.entries.splice(i, 1);
      this.entries.push(entry);
      return { id: entry.id, text: entry.text.slice(typed) };
    }
    return undefined;
  }

  /** Forget a document's suggestions (closed, or edited far from the cursor). */
  forget(document: string): void {
    this.entries = this.entries.filter((e) => e.document !== document);
  }

  clear(): void {
    this.entries = [];
  }

  get size(): number {
    return this.entries.length;
  }
}

function sameStart(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  return a.slice(0, n) === b.slice(0, n);
}
