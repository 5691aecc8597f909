import { useState } from 'react'
import { ApiError, type ApiClient } from './api/client'

/** Asks for the API key after the server answered 401; the key lives in sessionStorage only. */
export function Login({ client, onLoggedIn }: { client: ApiClient; onLoggedIn: () => void }) {
  const [key, setKey] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [checking, setChecking] = useState(false)
  const hadKey = client.apiKey != null

  const submit = async () => {
    setChecking(true)
    setError(null)
    client.apiKey = key.trim()
    try {
      await client.status()
      onLoggedIn()
    } catch (e) {
      client.apiKey = null
      setError(
        e instanceof ApiError && e.status === 401
          ? 'The server did not accept this key.'
          : `Could not check the key: ${e instanceof Error ? e.message : String(e)}`,
      )
    } finally {
      setChecking(false)
    }
  }

  return (
    <form
      className="login"
      aria-label="Sign in with an API key"
      onSubmit={(e) => {
        e.preventDefault()
        void submit()
      }}
    >
      <h2>API key needed</h2>
      <p className="muted">
        {hadKey ? 'The server no longer accepts the key this tab had.' : 'This server asks for an API key.'} It is
        kept for this browser tab only (sessionStorage) and sent as <code>Authorization: Bearer</code>.
      </p>
      <label htmlFor="api-key">API key</label>
      <input
        id="api-key"
        type="password"
        autoComplete="current-password"
        autoFocus
        value={key}
        onChange={(e) => setKey(e.target.value)}
      />
      <button type="submit" disabled={checking || key.trim() === ''}>
        {checking ? 'Checking…' : 'Sign in'}
      </button>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}
