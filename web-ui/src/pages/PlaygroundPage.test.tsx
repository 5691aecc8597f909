import { fireEvent, render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { ApiProvider } from '../api/context'
import { fakeServer, json } from '../test/fake-server'
import { PlaygroundPage } from './PlaygroundPage'

describe('playground', () => {
  it('sends the text around the cursor as prompt and suffix and shows the completion with its timing', async () => {
    const user = userEvent.setup()
    const server = fakeServer({
      'POST /v1/completions': () =>
        json({
          id: 'cmpl-1', object: 'text_completion', created: 0, model: 'qwen',
          choices: [{ index: 0, text: 'return a + b', finish_reason: 'stop', logprobs: null }],
          usage: { prompt_tokens: 20, completion_tokens: 6, total_tokens: 26 },
          pylot: { cached: false, latency_ms: 300, fim: true },
        }),
    })
    render(
      <ApiProvider client={server.client}>
        <PlaygroundPage />
      </ApiProvider>,
    )
    const code = screen.getByLabelText('Code') as HTMLTextAreaElement
    fireEvent.change(code, { target: { value: 'def add(a, b):\n    \nprint(add(1, 2))\n' } })
    code.setSelectionRange(19, 19)
    fireEvent.select(code)
    await user.type(screen.getByLabelText(/Max tokens/), '16')
    await user.click(screen.getByRole('button', { name: 'Complete' }))

    expect(await screen.findByTestId('completion-text')).toHaveTextContent('return a + b')
    expect(screen.getByTestId('completion-timing')).toHaveTextContent(/300 ms on the server · 6 tokens \(20\.0 tok\/s\).*stop.*FIM/)
    expect(server.calls[0].body).toEqual({
      prompt: 'def add(a, b):\n    ',
      suffix: '\nprint(add(1, 2))\n',
      max_tokens: 16,
      stream: false,
    })

    await user.click(screen.getByRole('button', { name: 'Insert' }))
    expect(code.value).toBe('def add(a, b):\n    return a + b\nprint(add(1, 2))\n')
  })
})
