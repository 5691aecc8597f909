import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { KEY_STORAGE } from './api/client'
import { App } from './App'
import { STATUS } from './test/fixtures'
import { apiError, fakeServer, json, type Call } from './test/fake-server'

const KEY = 's3cret'

function guarded(call: Call) {
  return call.headers.get('Authorization') === `Bearer ${KEY}`
    ? json(STATUS)
    : apiError(401, 'missing or invalid API key', null, 'authentication_error')
}

describe('login on 401', () => {
  it('asks for the key, rejects a wrong one, keeps the right one for the tab', async () => {
    const user = userEvent.setup()
    const server = fakeServer({ 'GET /v1/status': guarded })
    render(<App client={server.client} />)

    const input = await screen.findByLabelText('API key')
    await user.type(input, 'wrong')
    await user.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('The server did not accept this key.')
    expect(sessionStorage.getItem(KEY_STORAGE)).toBeNull()

    await user.clear(input)
    await user.type(input, KEY)
    await user.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(await screen.findByText('qwen2.5-coder-0.5b')).toBeInTheDocument()
    expect(screen.queryByLabelText('API key')).toBeNull()
    expect(sessionStorage.getItem(KEY_STORAGE)).toBe(KEY)
    expect(server.calls.at(-1)?.headers.get('Authorization')).toBe(`Bearer ${KEY}`)
  })

  it('uses a key already in sessionStorage without asking', async () => {
    sessionStorage.setItem(KEY_STORAGE, KEY)
    const server = fakeServer({ 'GET /v1/status': guarded })
    render(<App client={server.client} />)
    expect(await screen.findByText('qwen2.5-coder-0.5b')).toBeInTheDocument()
    expect(screen.queryByLabelText('API key')).toBeNull()
    await userEvent.setup().click(screen.getByRole('button', { name: 'Forget key' }))
    expect(sessionStorage.getItem(KEY_STORAGE)).toBeNull()
    expect(await screen.findByLabelText('API key')).toBeInTheDocument()
  })
})
