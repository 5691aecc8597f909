import type { ReactNode } from 'react'
import { ApiError } from '../api/client'

/** One line that says what went wrong; `unavailable` when the server lacks the route. */
export function ErrorNotice({ error, what }: { error: unknown; what?: string }) {
  if (error instanceof ApiError && error.unavailable) {
    return (
      <p className="notice unavailable" role="status">
        {what ?? 'This feature'} is not available on this server ({error.status}).
      </p>
    )
  }
  const message = error instanceof Error ? error.message : String(error)
  return (
    <p className="notice error" role="alert">
      {what ? `${what}: ` : ''}
      {message}
    </p>
  )
}

export function Stat({ label, value, hint }: { label: string; value: ReactNode; hint?: string }) {
  return (
    <div className="stat" title={hint}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
    </div>
  )
}
