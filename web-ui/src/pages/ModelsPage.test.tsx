import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { ApiProvider } from '../api/context'
import type { CatalogEntry } from '../api/types'
import { fakeServer, json, sse } from '../test/fake-server'
import { ModelsPage } from './ModelsPage'

const MB = 1024 * 1024

describe('models page', () => {
  it('pulls a model and shows its progress', async () => {
    const user = userEvent.setup()
    let installed = false
    const entry = (): CatalogEntry => ({
      id: 'smollm2-135m', family: 'smollm2', size_bytes: 98362432, installed, loaded: false,
      memory: { total_bytes: 200 * MB, fits: true },
    })
    const server = fakeServer({
      'GET /v1/models/catalog': () => json({ object: 'list', data: [entry()], quantization_types: ['q4_0', 'q8_0'] }),
      'GET /v1/models': () => json({ object: 'list', data: [] }),
      'POST /v1/models/pull': () => {
        installed = true
        return sse([
          { downloaded: 0, total: 100 * MB },
          { downloaded: 50 * MB, total: 100 * MB },
          { downloaded: 100 * MB, total: 100 * MB },
          { done: true, id: 'smollm2-135m', size_bytes: 100 * MB },
        ])
      },
    })
    render(
      <ApiProvider client={server.client}>
        <ModelsPage />
      </ApiProvider>,
    )
    const row = await screen.findByTestId('model-smollm2-135m')
    expect(row).toHaveTextContent(/smollm2.*93\.8 MiB.*fits.*not installed/)
    await user.click(within(row).getByRole('button', { name: 'Pull' }))

    expect(await within(row).findByText('Pulled')).toBeInTheDocument()
    expect(within(row).getByTestId('pull-progress')).toHaveTextContent('100.0 MiB of 100.0 MiB (100.0%)')
    expect(server.calls.find((c) => c.method === 'POST')?.body).toEqual({ id: 'smollm2-135m' })
    expect(await within(row).findByRole('button', { name: 'Load' })).toBeInTheDocument()
    const types = within(row).getByLabelText('Quantization type for smollm2-135m')
    expect(within(types).getAllByRole('option').map((o) => o.textContent)).toEqual(['q4_0', 'q8_0'])
  })

  it('shows the catalog as unavailable when the server lacks it, and still lists installed models', async () => {
    const server = fakeServer({
      'GET /v1/models': () =>
        json({ object: 'list', data: [{ id: 'qwen2.5-coder-0.5b', object: 'model', created: 0, owned_by: 'pylot', loaded: true, meta: null }] }),
    })
    render(
      <ApiProvider client={server.client}>
        <ModelsPage />
      </ApiProvider>,
    )
    expect(await screen.findByText(/The model catalog is not available on this server \(404\)/)).toBeInTheDocument()
    expect(await screen.findByText('qwen2.5-coder-0.5b')).toBeInTheDocument()
  })

  it('reports an error event in the pull stream', async () => {
    const user = userEvent.setup()
    const server = fakeServer({
      'GET /v1/models/catalog': () => json({ object: 'list', data: [] }),
      'GET /v1/models': () => json({ object: 'list', data: [] }),
      'POST /v1/models/pull': () => sse([{ downloaded: 10, total: 100 }, { done: true, error: 'sha256 mismatch' }]),
    })
    render(
      <ApiProvider client={server.client}>
        <ModelsPage />
      </ApiProvider>,
    )
    await user.type(screen.getByPlaceholderText('smollm2-135m'), 'broken-model')
    await user.click(screen.getByRole('button', { name: 'Pull' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('sha256 mismatch')
  })
})
