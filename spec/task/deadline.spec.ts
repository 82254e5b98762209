import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { withDeadline } from '../../src/capabilities/task/deadline.js'

describe('deadline-bound calls to Sense', () => {
  it('leave no listener on the request signal behind, however many one request makes', async () => {
    const abort = new AbortController()
    for (let i = 0; i < 20; i++) await withDeadline(Promise.resolve(i), 1000, abort.signal, () => undefined)
    await expect(
      withDeadline(Promise.reject(new Error('qrs said no')), 1000, abort.signal, () => undefined),
    ).rejects.toThrow('qrs said no')
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0)
  })

  it('still end at once when the request is cancelled, with its reason', async () => {
    const abort = new AbortController()
    const never = new Promise<number>(() => undefined)
    const call = withDeadline(never, 60_000, abort.signal, () => undefined)
    abort.abort(new Error('cancelled by the caller'))
    await expect(call).rejects.toThrow('cancelled by the caller')
  })
})
