import { describe, expect, it } from 'vitest'
import { ApiError } from './client'
import { readSse } from './sse'
import { apiError, fakeServer } from '../test/fake-server'

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  return new ReadableStream({
    start(controller) {
      chunks.forEach((c) => controller.enqueue(encoder.encode(c)))
      controller.close()
    },
  })
}

describe('api client', () => {
  it('turns an OpenAI-shaped error body into an ApiError with its param', async () => {
    const { client } = fakeServer({ 'PATCH /v1/config': () => apiError(400, 'too hot', 'generation.temperature') })
    const error = await client.patchConfig('generation', { temperature: 9 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 400, message: 'too hot', param: 'generation.temperature', type: 'invalid_request_error' })
  })

  it('calls the 401 listeners and sends the stored key as a Bearer token', async () => {
    const { client, calls } = fakeServer({ 'GET /v1/status': () => apiError(401, 'no key', null, 'authentication_error') })
    let told = 0
    client.onUnauthorized(() => told++)
    client.apiKey = 'k1'
    await expect(client.status()).rejects.toMatchObject({ status: 401 })
    expect(told).toBe(1)
    expect(calls[0].headers.get('Authorization')).toBe('Bearer k1')
  })
})

describe('server-sent events reader', () => {
  it('joins events split across chunks and skips comments', async () => {
    const events = []
    for await (const e of readSse(streamOf([': keep-alive\n\nid: 7\nevent: log\nda', 'ta: {"a":1}\r\n\r\ndata: x\ndata: y\n\n']))) {
      events.push(e)
    }
    expect(events).toEqual([
      { event: 'log', data: '{"a":1}', id: '7' },
      { event: 'message', data: 'x\ny', id: '7' },
    ])
  })
})
