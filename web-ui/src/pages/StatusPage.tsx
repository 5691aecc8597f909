import { useEffect, useState } from 'react'
import { useApi } from '../api/context'
import type { Status } from '../api/types'
import { LineChart } from '../components/LineChart'
import { ErrorNotice, Stat } from '../components/Notice'
import { bytes, duration, ms, num, percent } from '../format'

/** One poll's numbers for the charts. */
export interface Sample {
  at: number
  requestsPerMinute: number
  p50: number | null
  p95: number | null
  tokensPerSecond: number
  rssBytes: number
  queueDepth: number
}

export const WINDOW = 150 // samples: five minutes at one poll every two seconds

export function sampleOf(status: Status, at: number): Sample {
  return {
    at,
    requestsPerMinute: status.requests_per_minute,
    p50: status.latency_ms?.p50 ?? null,
    p95: status.latency_ms?.p95 ?? null,
    tokensPerSecond: status.tokens_per_second,
    rssBytes: status.memory?.rss_bytes,
    queueDepth: status.queue_depth,
  }
}

export function StatusPage({ intervalMs = 2000 }: { intervalMs?: number }) {
  const api = useApi()
  const [status, setStatus] = useState<Status | null>(null)
  const [history, setHistory] = useState<Sample[]>([])
  const [error, setError] = useState<unknown>(null)

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const controller = new AbortController()
    // The next poll starts after the last one ends, so a slow server never piles requests up.
    const poll = async () => {
      try {
        const next = await api.status(controller.signal)
        setStatus(next)
        setHistory((h) => [...h.slice(-(WINDOW - 1)), sampleOf(next, Date.now())])
        setError(null)
      } catch (e) {
        if (controller.signal.aborted) return
        setError(e)
      }
      if (!controller.signal.aborted) timer = setTimeout(poll, intervalMs)
    }
    void poll()
    return () => {
      controller.abort()
      clearTimeout(timer)
    }
  }, [api, intervalMs])

  return (
    <section aria-labelledby="status-title" aria-busy={status == null && error == null}>
      <h2 id="status-title">Status</h2>
      {error != null && <ErrorNotice error={error} what="Status" />}
      {status ? <StatusView status={status} history={history} /> : error == null && <p>Loading…</p>}
    </section>
  )
}

export function StatusView({ status, history }: { status: Status; history: Sample[] }) {
  const model = status.model
  const memory = status.memory
  const backends = status.backends ?? []
  return (
    <>
      {model?.error && (
        <p className="notice error" role="alert">
          The model did not load: {model.error}
        </p>
      )}
      <div className="stats">
        <Stat
          label="Model"
          value={
            <>
              {model?.id ?? '–'}{' '}
              <span className={`badge ${model?.loaded ? 'ok' : 'bad'}`}>{model?.loaded ? 'loaded' : 'not loaded'}</span>
            </>
          }
          hint={model?.path ?? undefined}
        />
        <Stat
          label="Context · FIM"
          value={`${model?.n_ctx ?? '–'} tokens · ${model?.fim ? 'fill-in-the-middle' : 'no FIM'}`}
        />
        <Stat label="Uptime" value={duration(status.uptime_s)} />
        <Stat
          label="Memory (RSS)"
          value={bytes(memory?.rss_bytes)}
          hint={`${bytes(memory?.available_bytes)} free of ${bytes(memory?.total_bytes)}`}
        />
        <Stat label="Free memory" value={`${bytes(memory?.available_bytes)} / ${bytes(memory?.total_bytes)}`} />
        <Stat label="Queue depth" value={status.queue_depth} />
        <Stat label="Requests" value={`${status.requests_total} total`} />
        <Stat
          label="Cache hit rate"
          value={
            status.cache?.enabled === false
              ? 'off'
              : (status.cache?.hits ?? 0) + (status.cache?.misses ?? 0) === 0
                ? 'no lookups yet'
                : percent(status.cache?.hit_rate)
          }
          hint={`${status.cache?.hits ?? 0} hits, ${status.cache?.misses ?? 0} misses, ${status.cache?.entries ?? 0} entries`}
        />
        <Stat
          label="Suggestions accepted"
          value={status.feedback?.views ? percent(status.feedback.acceptance_rate) : 'none shown yet'}
          hint={`${status.feedback?.accepts ?? 0} accepted, ${status.feedback?.dismisses ?? 0} dismissed of ${status.feedback?.views ?? 0} shown`}
        />
      </div>

      <div className="charts">
        <LineChart
          title="Requests per minute"
          capacity={WINDOW}
          format={(v) => num(v)}
          series={[{ name: 'rpm', values: history.map((s) => s.requestsPerMinute) }]}
        />
        <LineChart
          title="Latency"
          capacity={WINDOW}
          format={ms}
          series={[
            { name: 'p50', values: history.map((s) => s.p50) },
            { name: 'p95', values: history.map((s) => s.p95), color: 'var(--warn)' },
          ]}
        />
        <LineChart
          title="Tokens per second"
          capacity={WINDOW}
          format={(v) => num(v)}
          series={[{ name: 'tok/s', values: history.map((s) => s.tokensPerSecond) }]}
        />
        <LineChart
          title="Queue depth"
          capacity={WINDOW}
          format={(v) => num(v, 0)}
          series={[{ name: 'queue', values: history.map((s) => s.queueDepth) }]}
        />
      </div>

      <h3>Backends</h3>
      {backends.length === 0 ? (
        <p className="muted">No backends reported.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>URL</th>
              <th>Health</th>
              <th>Latency</th>
              <th>In flight</th>
            </tr>
          </thead>
          <tbody>
            {backends.map((b) => (
              <tr key={b.name}>
                <td>{b.name}</td>
                <td>
                  <code>{b.url || 'in process'}</code>
                </td>
                <td>
                  <span className={`badge ${b.healthy ? 'ok' : 'bad'}`}>{b.healthy ? 'healthy' : 'down'}</span>
                </td>
                <td>{ms(b.latency_ms)}</td>
                <td>{b.in_flight}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  )
}
