import { useEffect, useMemo, useRef, useState } from 'react'
import { useApi } from '../api/context'
import { ApiError } from '../api/client'
import { LOG_LEVELS, type LogLevel, type LogRecord } from '../api/types'
import { ErrorNotice } from '../components/Notice'
import { clock } from '../format'

const KEEP = 2000 // records held in the page; the server's ring may hold more
const RECONNECT_MS = 2000

// A level this page does not know (a custom one) counts as DEBUG.
const rank = (level: string) => Math.max(LOG_LEVELS.indexOf(level as LogLevel), 0)

/** Records at `level` or above whose message or logger contains `q`, case-insensitively. */
export function filterLogs(records: LogRecord[], level: LogLevel, q: string): LogRecord[] {
  const lowest = rank(level)
  const needle = q.trim().toLowerCase()
  return records.filter(
    (r) =>
      rank(r.level) >= lowest &&
      (needle === '' || r.message.toLowerCase().includes(needle) || r.logger.toLowerCase().includes(needle)),
  )
}

type Connection = 'connecting' | 'live' | 'reconnecting' | 'unavailable'

export function LogsPage() {
  const api = useApi()
  const [records, setRecords] = useState<LogRecord[]>([])
  const [level, setLevel] = useState<LogLevel>('DEBUG')
  const [q, setQ] = useState('')
  const [paused, setPaused] = useState(false)
  const [frozen, setFrozen] = useState<LogRecord[]>([])
  const [connection, setConnection] = useState<Connection>('connecting')
  const [error, setError] = useState<unknown>(null)
  const box = useRef<HTMLDivElement>(null)

  useEffect(() => {
    const controller = new AbortController()
    let since = 0
    const add = (batch: LogRecord[]) => {
      if (batch.length === 0) return
      since = Math.max(since, batch[batch.length - 1].seq)
      setRecords((old) => [...old, ...batch].slice(-KEEP))
    }
    const run = async () => {
      try {
        const first = await api.logs({ limit: KEEP })
        add(first.data)
        since = Math.max(since, first.last_seq)
      } catch (e) {
        setConnection(e instanceof ApiError && e.unavailable ? 'unavailable' : 'reconnecting')
        setError(e)
        if (e instanceof ApiError && (e.unavailable || e.status === 401)) return
      }
      while (!controller.signal.aborted) {
        try {
          setConnection('live')
          setError(null)
          for await (const record of api.streamLogs(since, controller.signal)) add([record])
        } catch (e) {
          if (controller.signal.aborted) return
          if (e instanceof ApiError && (e.unavailable || e.status === 401)) {
            setConnection('unavailable')
            setError(e)
            return
          }
        }
        setConnection('reconnecting')
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS))
      }
    }
    void run()
    return () => controller.abort()
  }, [api])

  const source = paused ? frozen : records
  const shown = useMemo(() => filterLogs(source, level, q), [source, level, q])

  useEffect(() => {
    const el = box.current
    if (!paused && el) el.scrollTop = el.scrollHeight
  }, [shown, paused])

  return (
    <section aria-labelledby="logs-title" aria-busy={connection === 'connecting'}>
      <h2 id="logs-title">Logs</h2>
      <div className="toolbar">
        <label>
          Level{' '}
          <select value={level} onChange={(e) => setLevel(e.target.value as LogLevel)} aria-label="Lowest level">
            {LOG_LEVELS.map((l) => (
              <option key={l} value={l}>
                {l}
                {l === 'CRITICAL' ? '' : ' and above'}
              </option>
            ))}
          </select>
        </label>
        <input
          type="search"
          placeholder="Search message or logger"
          aria-label="Search logs"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <button
          type="button"
          onClick={() => {
            setFrozen(records)
            setPaused((p) => !p)
          }}
        >
          {paused ? 'Resume' : 'Pause'}
        </button>
        <button type="button" onClick={() => setRecords([])}>
          Clear
        </button>
        <span className={`badge ${connection === 'live' ? 'ok' : 'muted'}`} data-testid="log-connection">
          {connection}
        </span>
        <span className="muted">
          {shown.length} of {source.length} records
        </span>
      </div>
      {error != null && <ErrorNotice error={error} what="Logs" />}
      <div className="log" role="log" aria-live="off" ref={box}>
        {shown.map((r) => (
          <div key={r.seq} className={`log-line level-${r.level.toLowerCase()}`}>
            <span className="log-time">{clock(r.time)}</span>
            <span className="log-level">{r.level}</span>
            <span className="log-logger">{r.logger}</span>
            <span className="log-message">{r.message}</span>
          </div>
        ))}
      </div>
    </section>
  )
}
