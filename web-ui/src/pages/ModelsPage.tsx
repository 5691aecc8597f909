import { useCallback, useEffect, useState } from 'react'
import { useApi } from '../api/context'
import { ApiError } from '../api/client'
import type { CatalogEntry, ModelEntry } from '../api/types'
import { ErrorNotice } from '../components/Notice'
import { bytes, percent } from '../format'

// Used when the catalog does not list the types its server accepts.
export const DEFAULT_QUANT_TYPES = ['q4_0', 'q4_k_m', 'q5_k_m', 'q8_0']

interface Progress {
  downloaded: number
  total: number | null
}

/** A row's state while an action runs, and how the last one ended. */
interface RowState {
  busy?: string
  progress?: Progress
  message?: string
  error?: unknown
}

export function ModelsPage() {
  const api = useApi()
  const [catalog, setCatalog] = useState<CatalogEntry[] | null>(null)
  const [quantTypes, setQuantTypes] = useState<string[]>(DEFAULT_QUANT_TYPES)
  const [catalogError, setCatalogError] = useState<unknown>(null)
  const [served, setServed] = useState<ModelEntry[] | null>(null)
  const [servedError, setServedError] = useState<unknown>(null)
  const [rows, setRows] = useState<Record<string, RowState>>({})
  const [quant, setQuant] = useState<Record<string, string>>({})
  const [pullId, setPullId] = useState('')
  const [loaded, setLoaded] = useState(false)

  const refresh = useCallback(async () => {
    const [cat, list] = await Promise.allSettled([api.catalog(), api.models()])
    if (cat.status === 'fulfilled') {
      setCatalog(cat.value.data)
      if (cat.value.quantization_types?.length) setQuantTypes(cat.value.quantization_types)
      setCatalogError(null)
    } else setCatalogError(cat.reason)
    if (list.status === 'fulfilled') {
      setServed(list.value.data)
      setServedError(null)
    } else setServedError(list.reason)
    setLoaded(true)
  }, [api])

  useEffect(() => {
    void refresh()
  }, [refresh])

  const setRow = (id: string, state: RowState) => setRows((r) => ({ ...r, [id]: state }))

  const act = async (id: string, label: string, action: () => Promise<unknown>, done: string) => {
    setRow(id, { busy: label })
    try {
      await action()
      setRow(id, { message: done })
    } catch (e) {
      setRow(id, { error: e })
    }
    await refresh()
  }

  const pull = async (id: string) => {
    setRow(id, { busy: 'Pulling' })
    let progress: Progress | undefined
    try {
      for await (const event of api.pullModel(id)) {
        if (event.error) {
          throw new ApiError(500, typeof event.error === 'string' ? { message: event.error } : event.error)
        }
        if (event.done) break
        if (typeof event.downloaded === 'number') {
          progress = { downloaded: event.downloaded, total: event.total ?? null }
          setRow(id, { busy: 'Pulling', progress })
        }
      }
      // The finished bar stays, so the size that came down is still there to read.
      setRow(id, { message: 'Pulled', progress })
    } catch (e) {
      setRow(id, { error: e, progress })
    }
    await refresh()
  }

  const remove = (id: string) => {
    if (!window.confirm(`Delete ${id} from the model store?`)) return
    void act(id, 'Deleting', () => api.deleteModel(id), 'Deleted')
  }

  return (
    <section aria-labelledby="models-title" aria-busy={!loaded}>
      <h2 id="models-title">Models</h2>
      <h3>Catalog</h3>
      {catalogError != null && <ErrorNotice error={catalogError} what="The model catalog" />}
      {catalog && (
        <table className="table">
          <thead>
            <tr>
              <th>Model</th>
              <th>Family</th>
              <th>Size</th>
              <th>Memory</th>
              <th>State</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {catalog.map((m) => {
              const row = rows[m.id] ?? {}
              return (
                <tr key={m.id} data-testid={`model-${m.id}`}>
                  <td>
                    <code className="nowrap">{m.id}</code>
                    {m.description && <div className="muted small">{m.description}</div>}
                  </td>
                  <td>{m.family}</td>
                  <td className="nowrap">{bytes(m.size_bytes)}</td>
                  <td>
                    <span
                      className={`badge ${m.memory?.fits ? 'ok' : 'bad'}`}
                      title={`needs about ${bytes(m.memory?.total_bytes)}${m.memory?.n_ctx ? ` with a ${m.memory.n_ctx}-token context` : ''}`}
                    >
                      {m.memory?.fits ? 'fits' : 'too big'}
                    </span>{' '}
                    <span className="nowrap">{bytes(m.memory?.total_bytes)}</span>
                    {!m.memory?.fits && m.memory?.fitting_n_ctx ? (
                      <div className="muted small">fits with n_ctx {m.memory.fitting_n_ctx}</div>
                    ) : null}
                  </td>
                  <td>{stateOf(m)}</td>
                  <td>
                    <div className="actions">
                    {!m.installed && (
                      <button type="button" disabled={!!row.busy} onClick={() => void pull(m.id)}>
                        Pull
                      </button>
                    )}
                    {m.installed && !m.loaded && (
                      <button
                        type="button"
                        disabled={!!row.busy}
                        onClick={() => void act(m.id, 'Loading', () => api.loadModel(m.id), 'Loaded')}
                      >
                        Load
                      </button>
                    )}
                    {m.installed && (
                      <>
                        <select
                          aria-label={`Quantization type for ${m.id}`}
                          value={quant[m.id] ?? quantTypes[0]}
                          onChange={(e) => setQuant((q) => ({ ...q, [m.id]: e.target.value }))}
                        >
                          {quantTypes.map((t) => (
                            <option key={t}>{t}</option>
                          ))}
                        </select>
                        <button
                          type="button"
                          disabled={!!row.busy}
                          onClick={() => {
                            const type = quant[m.id] ?? quantTypes[0]
                            void act(m.id, 'Quantizing', () => api.quantizeModel(m.id, type), `Quantized to ${type}`)
                          }}
                        >
                          Quantize
                        </button>
                      </>
                    )}
                    {m.installed && !m.loaded && (
                      <button type="button" className="danger" disabled={!!row.busy} onClick={() => remove(m.id)}>
                        Delete
                      </button>
                    )}
                    </div>
                    <RowStatus row={row} />
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      )}

      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault()
          if (pullId.trim()) void pull(pullId.trim())
        }}
      >
        <label>
          Pull by id <input value={pullId} onChange={(e) => setPullId(e.target.value)} placeholder="smollm2-135m" />
        </label>
        <button type="submit" disabled={!pullId.trim() || !!rows[pullId.trim()]?.busy}>
          Pull
        </button>
        {pullId.trim() && !catalog?.some((m) => m.id === pullId.trim()) && <RowStatus row={rows[pullId.trim()] ?? {}} />}
      </form>

      <h3>Served now</h3>
      {servedError != null && <ErrorNotice error={servedError} what="The model list" />}
      {served &&
        (served.length === 0 ? (
          <p className="muted">The server lists no models.</p>
        ) : (
          <ul className="plain">
            {served.map((m) => (
              <li key={m.id}>
                <code>{m.id}</code> {m.loaded && <span className="badge ok">loaded</span>}
              </li>
            ))}
          </ul>
        ))}
    </section>
  )
}

function stateOf(m: CatalogEntry): string {
  if (m.loaded) return 'loaded'
  if (!m.installed) return 'not installed'
  return m.status && m.status !== 'ok' ? `installed (${m.status})` : 'installed'
}

function RowStatus({ row }: { row: RowState }) {
  return (
    <>
      {row.progress && <ProgressBar {...row.progress} />}
      {row.busy && !row.progress && <span className="muted">{row.busy}…</span>}
      {row.error != null && <ErrorNotice error={row.error} />}
      {row.message && (
        <span className="muted" role="status">
          {row.message}
        </span>
      )}
    </>
  )
}

function ProgressBar({ downloaded, total }: Progress) {
  return (
    <div className="progress" data-testid="pull-progress">
      <progress value={downloaded} max={total ?? undefined} /> {bytes(downloaded)}
      {total ? ` of ${bytes(total)} (${percent(downloaded / total)})` : ''}
    </div>
  )
}
