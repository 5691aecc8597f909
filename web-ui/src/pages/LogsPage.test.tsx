import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { ApiProvider } from '../api/context'
import type { LogRecord } from '../api/types'
import { fakeServer, json, sse } from '../test/fake-server'
import { filterLogs, LogsPage } from './LogsPage'

const t = 1_760_000_000
const RECORDS: LogRecord[] = [
  { seq: 1, time: t, level: 'DEBUG', logger: 'pylot.core.completion', message: 'prompt is 812 tokens' },
  { seq: 2, time: t + 1, level: 'INFO', logger: 'pylot.server', message: 'POST /v1/completions 200 in 412 ms' },
  { seq: 3, time: t + 2, level: 'WARNING', logger: 'pylot.core.cache', message: 'cache full, evicting' },
  { seq: 4, time: t + 3, level: 'ERROR', logger: 'pylot.core.balancer', message: 'backend gpu-box down' },
]

describe('log filter', () => {
  it('keeps records at the chosen level or above', () => {
    expect(filterLogs(RECORDS, 'WARNING', '').map((r) => r.seq)).toEqual([3, 4])
    expect(filterLogs(RECORDS, 'DEBUG', '').length).toBe(4)
  })

  it('searches message and logger without regard to case', () => {
    expect(filterLogs(RECORDS, 'DEBUG', 'BACKEND').map((r) => r.seq)).toEqual([4])
    expect(filterLogs(RECORDS, 'DEBUG', 'cache').map((r) => r.seq)).toEqual([3])
    expect(filterLogs(RECORDS, 'INFO', 'completion').map((r) => r.seq)).toEqual([2])
  })
})

describe('logs page', () => {
  it('shows history and live records, filtered by level and text', async () => {
    const user = userEvent.setup()
    const live: LogRecord = { seq: 5, time: t + 4, level: 'ERROR', logger: 'pylot.server', message: 'request timed out' }
    const server = fakeServer({
      'GET /v1/logs': () => json({ object: 'list', data: RECORDS, last_seq: 4, capacity: 2000 }),
      'GET /v1/logs/stream': () => sse([live]),
    })
    render(
      <ApiProvider client={server.client}>
        <LogsPage />
      </ApiProvider>,
    )
    const log = screen.getByRole('log')
    expect(await within(log).findByText('request timed out')).toBeInTheDocument()
    expect(server.calls.find((c) => c.path.startsWith('/v1/logs/stream'))?.path).toBe('/v1/logs/stream?since=4')
    expect(within(log).getAllByText(/./, { selector: '.log-message' })).toHaveLength(5)

    await user.selectOptions(screen.getByLabelText('Lowest level'), 'WARNING')
    expect(within(log).queryByText('prompt is 812 tokens')).toBeNull()
    expect(within(log).getAllByText(/./, { selector: '.log-message' })).toHaveLength(3)

    await user.type(screen.getByLabelText('Search logs'), 'gpu-box')
    const lines = within(log).getAllByText(/./, { selector: '.log-message' })
    expect(lines.map((l) => l.textContent)).toEqual(['backend gpu-box down'])
    expect(screen.getByText('1 of 5 records')).toBeInTheDocument()
  })

  it('says logs are unavailable when the server has no log routes', async () => {
    const server = fakeServer({})
    render(
      <ApiProvider client={server.client}>
        <LogsPage />
      </ApiProvider>,
    )
    expect(await screen.findByText(/not available on this server/)).toBeInTheDocument()
    expect(screen.getByTestId('log-connection')).toHaveTextContent('unavailable')
  })
})
