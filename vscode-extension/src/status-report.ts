/** `GET /v1/status` as a short Markdown page for the "Show Server Status" command. */
import { ServerStatus } from './api-client';

export function statusMarkdown(status: ServerStatus, serverUrl: string): string {
  const rows: [string, string][] = [];
  const add = (name: string, value: unknown, unit = '') => {
    if (value !== undefined && value !== null && value !== '') {
      rows.push([name, `${typeof value === 'number' ? round(value) : String(value)}${unit}`]);
    }
  };
  add('Server', serverUrl);
  add('Model', status.model?.id);
  add('Context', status.model?.n_ctx, ' tokens');
  add('Fill-in-the-middle', status.model?.fim === undefined ? undefined : status.model.fim ? 'yes' : 'no');
  add('Uptime', status.uptime_s === undefined ? undefined : formatDuration(status.uptime_s));
  add('Queue depth', status.queue_depth);
  add('Requests', status.requests_total);
  add('Generation speed', status.tokens_per_second, ' tokens/s');
  add('Latency p50 / p95', status.latency_ms ? `${round(status.latency_ms.p50)} / ${round(status.latency_ms.p95)} ms` : undefined);
  add('Cache hit rate', status.cache?.hit_rate === undefined ? undefined : `${round(100 * status.cache.hit_rate)} %`);
  add(
    'Acceptance',
    status.feedback
      ? `${round(100 * (status.feedback.acceptance_rate ?? 0))} % (${status.feedback.accepts ?? 0} of ${status.feedback.views ?? 0} shown)`
      : undefined,
  );
  const lines = ['# Pylot server status', '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${escapeCell(v)} |`)];
  if (status.backends?.length) {
    lines.push('', '## Backends', '', '| name | url | healthy | latency |', '|---|---|---|---|');
    for (const b of status.backends) {
      lines.push(
        `| ${escapeCell(b.name ?? '')} | ${escapeCell(b.url ?? '')} | ${b.healthy ? 'yes' : 'no'} | ${b.latency_ms === undefined ? '' : `${round(b.latency_ms)} ms`} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** One line for a notification. */
export function statusSummary(status: ServerStatus): string {
  const parts = [status.model?.id ?? 'no model'];
  if (status.latency_ms?.p50 !== undefined) {
    parts.push(`p50 ${round(status.latency_ms.p50)} ms`);
  }
  if (status.tokens_per_second !== undefined) {
    parts.push(`${round(status.tokens_per_second)} tok/s`);
  }
  return parts.join(' · ');
}

function round(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) {
    return '?';
  }
  return Math.abs(value) >= 10 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
}

function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min` : `${Math.round(seconds)} s`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
