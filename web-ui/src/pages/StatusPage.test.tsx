import { render, screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { ApiProvider } from '../api/context'
import { fakeServer, json } from '../test/fake-server'
import { STATUS } from '../test/fixtures'
import { StatusPage } from './StatusPage'

describe('status page', () => {
  it('shows the numbers of a status payload', async () => {
    const server = fakeServer({ 'GET /v1/status': () => json(STATUS) })
    render(
      <ApiProvider client={server.client}>
        <StatusPage />
      </ApiProvider>,
    )
    expect(await screen.findByText('qwen2.5-coder-0.5b')).toBeInTheDocument()
    expect(screen.getByText('loaded')).toBeInTheDocument()
    expect(screen.getByText('1h 2m')).toBeInTheDocument()
    expect(screen.getByText('700.0 MiB')).toBeInTheDocument()
    expect(screen.getByText('75.0%')).toBeInTheDocument()
    expect(screen.getByText('40.0%')).toBeInTheDocument()
    expect(screen.getByText('4096 tokens · fill-in-the-middle')).toBeInTheDocument()
    expect(screen.getByTestId('chart-Latency-p95')).toHaveTextContent('1.73 s')
    expect(screen.getByTestId('chart-Tokens per second-tok/s')).toHaveTextContent('54.2')

    const rows = within(screen.getByRole('table')).getAllByRole('row')
    expect(rows[1]).toHaveTextContent(/embedded.*in process.*healthy.*12 ms/)
    expect(rows[2]).toHaveTextContent(/gpu-box.*10\.0\.0\.2.*down/)
  })

  it('polls and keeps a rolling window for the charts', async () => {
    let n = 0
    const server = fakeServer({
      'GET /v1/status': () => json({ ...STATUS, requests_per_minute: ++n * 10, model: { ...STATUS.model, loaded: n < 3 } }),
    })
    render(
      <ApiProvider client={server.client}>
        <StatusPage intervalMs={10} />
      </ApiProvider>,
    )
    expect(await screen.findByText('not loaded')).toBeInTheDocument()
    const line = document.querySelector('figure[aria-label="Requests per minute"] polyline')
    expect(line?.getAttribute('points')?.split(' ').length).toBeGreaterThanOrEqual(3)
  })

  it('says so when the server cannot be reached', async () => {
    const server = fakeServer({ 'GET /v1/status': () => json({ error: { message: 'model not loaded', type: 'backend_unavailable' } }, 503) })
    render(
      <ApiProvider client={server.client}>
        <StatusPage />
      </ApiProvider>,
    )
    expect(await screen.findByRole('alert')).toHaveTextContent('Status: model not loaded')
  })
})
