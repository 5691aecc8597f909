import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import type { Config, JsonSchema } from '../api/types'
import { SettingsPage } from '../pages/SettingsPage'
import { ApiProvider } from '../api/context'
import { apiError, fakeServer, json } from '../test/fake-server'
import schemaJson from '../test/config-schema.json'
import { SettingsForm } from './SettingsForm'

// /v1/config/schema as the server writes it (scripts/export_openapi.py; a Python test keeps it current).
const schema = schemaJson as JsonSchema

const config: Config = {
  server: { host: '127.0.0.1', port: 8080, api_keys: ['***'], max_request_bytes: 2000000, cors_origins: [] },
  model: { model: 'qwen2.5-coder-0.5b', store_dir: null, n_ctx: 4096, n_threads: null, n_threads_batch: null,
    n_batch: 512, use_mmap: true, use_mlock: false, n_gpu_layers: 0, flash_attn: false, memory_check: 'shrink' },
  generation: { max_tokens: 128, temperature: 0.2, top_p: 0.95, top_k: 40, min_p: 0.05, repeat_penalty: 1.0,
    stop: [], time_limit_s: null },
  cache: { enabled: true, max_entries: 512, ttl_s: 600.0 },
  logging: { level: 'INFO', file: null },
}

function field(path: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(`[data-field="${path}"]`)
  if (!el) throw new Error(`no field ${path}`)
  return el
}

function renderPage(routes: Parameters<typeof fakeServer>[0]) {
  const server = fakeServer({
    'GET /v1/config/schema': () => json(schema),
    'GET /v1/config': () => json(config),
    ...routes,
  })
  render(
    <ApiProvider client={server.client}>
      <SettingsPage />
    </ApiProvider>,
  )
  return server
}

describe('settings form generated from the schema', () => {
  it('renders one section per settings class with inputs that match each field type', () => {
    render(<SettingsForm schema={schema} config={config} save={async () => config} />)

    const generation = screen.getByRole('group', { name: 'Generation' })
    const maxTokens = within(generation).getByLabelText(/Max Tokens/)
    expect(maxTokens).toHaveAttribute('type', 'number')
    expect(maxTokens).toHaveValue(128)
    expect(maxTokens).toHaveAttribute('min', '1')
    expect(maxTokens).toHaveAttribute('max', '32768')
    expect(within(generation).getByLabelText(/Temperature/)).toHaveValue(0.2)
    expect(within(generation).getByText('Sampling temperature; 0 is greedy.')).toBeInTheDocument()
    expect(within(generation).getByLabelText(/Time Limit S/)).toHaveAttribute('placeholder', 'default')
    expect(generation).toHaveTextContent('Changes apply at once.')
    expect(screen.getByRole('group', { name: 'Server' })).toHaveTextContent('Changes apply at the next start')

    const level = screen.getByLabelText(/^Level/)
    expect(level.tagName).toBe('SELECT')
    expect(within(level).getAllByRole('option').map((o) => o.textContent)).toEqual(['DEBUG', 'INFO', 'WARNING', 'ERROR'])
    expect(screen.getByLabelText(/^Enabled/)).toBeChecked()
    expect(screen.getByLabelText(/Api Keys/)).toHaveAttribute('readonly')
    expect(screen.getAllByRole('group').map((g) => g.querySelector('legend')?.textContent)).toEqual([
      'Server', 'Model', 'Backend', 'Generation', 'Completion', 'Cache', 'Tools', 'Logging',
    ])
  })

  it('renders fields the console has never heard of, straight from the schema', () => {
    const custom: JsonSchema = {
      type: 'object',
      properties: { backend: { $ref: '#/$defs/BackendSettings' } },
      $defs: {
        BackendSettings: {
          type: 'object',
          properties: {
            kind: { type: 'string', enum: ['embedded', 'external'], title: 'Kind', description: 'Which engine.' },
            url: { anyOf: [{ type: 'string' }, { type: 'null' }], title: 'Url', default: null },
            weights: { type: 'object', title: 'Weights' },
          },
        },
      },
    }
    render(<SettingsForm schema={custom} config={{ backend: { kind: 'external', url: null, weights: { a: 1 } } }} save={async (_s, v) => ({ backend: v })} />)
    expect(screen.getByRole('group', { name: 'Backend' })).toBeInTheDocument()
    expect(screen.getByLabelText(/Kind/)).toHaveValue('external')
    expect(screen.getByLabelText(/Url/)).toHaveValue('')
    expect(screen.getByLabelText(/Weights/)).toHaveValue('{\n  "a": 1\n}')
  })

  it('saves only the changed fields of one section with PATCH', async () => {
    const user = userEvent.setup()
    const server = renderPage({
      'PATCH /v1/config': (call) => {
        const patch = (call.body as Config).generation
        return json({ ...config, generation: { ...config.generation, ...patch } })
      },
    })
    const temperature = await screen.findByLabelText(/Temperature/)
    await user.clear(temperature)
    await user.type(temperature, '0.7')
    await user.type(screen.getByLabelText(/^Stop/), '\\n\\n')
    await user.click(screen.getByRole('button', { name: 'Save generation' }))

    expect(await screen.findByText('Saved temperature, stop.')).toBeInTheDocument()
    const patch = server.calls.find((c) => c.method === 'PATCH')
    expect(patch?.body).toEqual({ generation: { temperature: 0.7, stop: ['\\n\\n'] } })
  })

  it('shows the server error next to the field the error names', async () => {
    const user = userEvent.setup()
    renderPage({
      'PATCH /v1/config': () => apiError(400, 'Input should be less than or equal to 2', 'generation.temperature'),
    })
    const temperature = await screen.findByLabelText(/Temperature/)
    await user.clear(temperature)
    await user.type(temperature, '5')
    await user.click(screen.getByRole('button', { name: 'Save generation' }))

    const alert = await within(field('generation.temperature')).findByRole('alert')
    expect(alert).toHaveTextContent('Input should be less than or equal to 2')
    expect(temperature).toHaveAttribute('aria-invalid', 'true')
    expect(within(field('generation.max_tokens')).queryByRole('alert')).toBeNull()
    // Editing the field clears its error.
    await user.type(temperature, '{backspace}1')
    expect(within(field('generation.temperature')).queryByRole('alert')).toBeNull()
  })

  it('maps a 422 error whose param starts with body to its field', async () => {
    const user = userEvent.setup()
    renderPage({
      'PATCH /v1/config': () => apiError(422, 'Input should be greater than or equal to 1', 'body.cache.max_entries'),
    })
    const entries = await screen.findByLabelText(/Max Entries/)
    await user.clear(entries)
    await user.type(entries, '0')
    await user.click(screen.getByRole('button', { name: 'Save cache' }))
    expect(await within(field('cache.max_entries')).findByRole('alert')).toHaveTextContent('greater than or equal to 1')
  })

  it('refuses an empty required number without asking the server', async () => {
    const user = userEvent.setup()
    const server = renderPage({})
    const generation = await screen.findByRole('group', { name: 'Generation' })
    await user.clear(within(generation).getByLabelText(/Max Tokens/))
    await user.click(screen.getByRole('button', { name: 'Save generation' }))
    expect(within(field('generation.max_tokens')).getByRole('alert')).toHaveTextContent('A value is required.')
    expect(server.calls.some((c) => c.method === 'PATCH')).toBe(false)
  })
})
