import { useEffect, useRef, useState } from 'react'
import { useApi } from '../api/context'
import type { Completion } from '../api/types'
import { ErrorNotice } from '../components/Notice'
import { ms, num } from '../format'

const EXAMPLE = 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    \n\nprint(fibonacci(10))\n'
const EXAMPLE_CURSOR = EXAMPLE.indexOf('    \n') + 4

interface Result {
  completion: Completion
  prefix: string
  suffix: string
  roundTripMs: number
}

/** Type code, put the cursor where the completion goes, and see what the server suggests. */
export function PlaygroundPage() {
  const api = useApi()
  const editor = useRef<HTMLTextAreaElement>(null)
  const [code, setCode] = useState(EXAMPLE)
  const [fim, setFim] = useState(true)
  const [maxTokens, setMaxTokens] = useState('')
  const [temperature, setTemperature] = useState('')
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<Result | null>(null)
  const [error, setError] = useState<unknown>(null)
  // Kept from the textarea's select events, so the button (which takes the focus) still knows it.
  const [caret, setCaret] = useState({ start: EXAMPLE_CURSOR, end: EXAMPLE_CURSOR })

  useEffect(() => {
    editor.current?.setSelectionRange(EXAMPLE_CURSOR, EXAMPLE_CURSOR)
  }, [])

  const complete = async () => {
    const { start, end } = caret
    const prefix = code.slice(0, start)
    const suffix = code.slice(end)
    setBusy(true)
    setError(null)
    const began = performance.now()
    try {
      const completion = await api.complete({
        prompt: prefix,
        ...(fim ? { suffix } : {}),
        ...(maxTokens.trim() ? { max_tokens: Number(maxTokens) } : {}),
        ...(temperature.trim() ? { temperature: Number(temperature) } : {}),
      })
      setResult({ completion, prefix, suffix, roundTripMs: performance.now() - began })
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }

  const accept = () => {
    if (!result) return
    const text = result.completion.choices[0]?.text ?? ''
    setCode(result.prefix + text + result.suffix)
    setResult(null)
    const at = result.prefix.length + text.length
    setCaret({ start: at, end: at })
    requestAnimationFrame(() => {
      editor.current?.focus()
      editor.current?.setSelectionRange(at, at)
    })
  }

  const choice = result?.completion.choices[0]
  const usage = result?.completion.usage
  const serverMs = result?.completion.pylot?.latency_ms
  return (
    <section aria-labelledby="playground-title" aria-busy={busy}>
      <h2 id="playground-title">Playground</h2>
      <p className="muted">
        Put the cursor where the completion should go: the text before it is the prefix, the text after it
        the suffix. Ctrl+Enter asks for a completion.
      </p>
      <textarea
        ref={editor}
        className="code"
        aria-label="Code"
        spellCheck={false}
        rows={14}
        value={code}
        onChange={(e) => setCode(e.target.value)}
        onSelect={(e) => setCaret({ start: e.currentTarget.selectionStart, end: e.currentTarget.selectionEnd })}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault()
            void complete()
          }
        }}
      />
      <div className="toolbar">
        <label>
          <input type="checkbox" checked={fim} onChange={(e) => setFim(e.target.checked)} /> Send the suffix
          (fill-in-the-middle)
        </label>
        <label>
          Max tokens{' '}
          <input
            type="number"
            min={1}
            className="short"
            placeholder="default"
            value={maxTokens}
            onChange={(e) => setMaxTokens(e.target.value)}
          />
        </label>
        <label>
          Temperature{' '}
          <input
            type="number"
            min={0}
            max={2}
            step="0.1"
            className="short"
            placeholder="default"
            value={temperature}
            onChange={(e) => setTemperature(e.target.value)}
          />
        </label>
        <button type="button" onClick={() => void complete()} disabled={busy}>
          {busy ? 'Completing…' : 'Complete'}
        </button>
      </div>
      {error != null && <ErrorNotice error={error} what="Completion" />}
      {result && choice && usage && (
        <div className="result" data-testid="completion-result">
          <pre className="code preview">
            <span className="muted">{result.prefix.slice(-400)}</span>
            <mark data-testid="completion-text">{choice.text}</mark>
            <span className="muted">{result.suffix.slice(0, 200)}</span>
          </pre>
          <div className="toolbar">
            <span data-testid="completion-timing">
              {ms(result.roundTripMs)} round trip · {ms(serverMs)} on the server ·{' '}
              {usage.completion_tokens} tokens
              {serverMs ? ` (${num((usage.completion_tokens * 1000) / serverMs)} tok/s)` : ''} · prompt{' '}
              {usage.prompt_tokens} tokens · {choice.finish_reason}
              {result.completion.pylot?.cached ? ' · from cache' : ''}
              {result.completion.pylot?.fim ? ' · FIM' : ''}
            </span>
            <button type="button" onClick={accept}>
              Insert
            </button>
          </div>
        </div>
      )}
    </section>
  )
}
