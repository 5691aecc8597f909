// A stand-in for the Pylot server in component tests: routes by "METHOD /path" to handlers.

import { vi } from 'vitest'
import { ApiClient } from '../api/client'

export interface Call {
  method: string
  path: string
  headers: Headers
  body: unknown
}

type Handler = (call: Call) => Response | Promise<Response>

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

export function apiError(status: number, message: string, param: string | null = null, type = 'invalid_request_error') {
  return json({ error: { message, type, code: null, param } }, status)
}

/** A text/event-stream answer; `events` are sent as `data:` lines, one event each. */
export function sse(events: unknown[]): Response {
  const text = events.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join('')
  return new Response(text, { headers: { 'Content-Type': 'text/event-stream' } })
}

/** A client whose fetch answers from `routes`; unknown routes answer 404 like the server does. */
export function fakeServer(routes: Record<string, Handler>) {
  const calls: Call[] = []
  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://pylot.test')
    const call: Call = {
      method: init.method ?? 'GET',
      path: url.pathname + url.search,
      headers: new Headers(init.headers),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    }
    calls.push(call)
    const handler = routes[`${call.method} ${url.pathname}`]
    if (!handler) return apiError(404, `no route ${url.pathname}`, null, 'not_found_error')
    return handler(call)
  })
  const client = new ApiClient({ fetch: fetch as typeof globalThis.fetch, storage: sessionStorage })
  return { client, calls, fetch }
}
