/**
 * Feedback for the server (`POST /v1/events`): view when a suggestion is shown, accept when Tab takes it,
 * dismiss when it goes away without being taken (Escape, typed over, replaced). VS Code's stable API does
 * not say when ghost text is hidden, so "shown" means "handed to the editor" and "dismissed" means
 * "replaced by something else or by nothing".
 */
import { FeedbackEvent, FeedbackKind } from './api-client';
import { Logger } from './logger';

export interface EventSink {
  sendEvent(event: FeedbackEvent): Promise<void>;
}

/** How many shown ids to remember, so that a suggestion served again from the cache is one view. */
const REMEMBERED = 200;

export class FeedbackTracker {
  private current: { id: string; language: string } | undefined;
  private readonly viewed = new Set<string>();

  constructor(
    private readonly sink: EventSink,
    private readonly log: Logger,
  ) {}

  shown(id: string, language: string): void {
    if (!id) {
      return;
    }
    if (this.current && this.current.id !== id) {
      this.send(this.current.id, 'dismiss', this.current.language);
    }
    this.current = { id, language };
    if (!this.viewed.has(id)) {
      this.remember(id);
      this.send(id, 'view', language);
    }
  }

  /** The provider had nothing to show where a suggestion was shown before: it was typed over. */
  nothingShown(): void {
    this.dismissed();
  }

  accepted(id: string): void {
    if (!id) {
      return;
    }
    const language = this.current?.id === id ? this.current.language : undefined;
    if (this.current?.id === id) {
      this.current = undefined;
    }
    this.send(id, 'accept', language);
  }

  dismissed(): void {
    if (this.current) {
      this.send(this.current.id, 'dismiss', this.current.language);
      this.current = undefined;
    }
  }

  private remember(id: string): void {
    this.viewed.add(id);
    if (this.viewed.size > REMEMBERED) {
      const oldest = this.viewed.values().next().value;
      if (oldest !== undefined) {
        this.viewed.delete(oldest);
      }
    }
  }

  private send(id: string, event: FeedbackKind, language: string | undefined): void {
    this.sink.sendEvent({ completion_id: id, event, ...(language ? { language } : {}) }).catch((err: unknown) => {
      this.log.debug(`feedback ${event} for ${id} not delivered: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
}
