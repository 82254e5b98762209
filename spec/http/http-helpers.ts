import { STATUS_CODES, request as httpRequest } from 'node:http'
import { connect as netConnect } from 'node:net'
import { expect } from 'vitest'

export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: any
  contentType: string
}

const parse = (text: string): unknown => {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * One HTTP request over a real socket, with a hard deadline so a hang fails the test instead of
 * stalling it. node:http rather than fetch: it sends bodies on GET/DELETE and bytes as they are.
 */
export function call(
  base: string,
  method: string,
  path: string,
  opts: {
    body?: string | Buffer | object
    headers?: Record<string, string>
    chunked?: boolean
    timeoutMs?: number
  } = {},
): Promise<HttpAnswer> {
  const url = new URL(base)
  let payload: Buffer | undefined
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.body !== undefined) {
    if (Buffer.isBuffer(opts.body) || typeof opts.body === 'string') payload = Buffer.from(opts.body)
    else {
      payload = Buffer.from(JSON.stringify(opts.body))
      headers['content-type'] ??= 'application/json'
    }
    if (!opts.chunked) headers['content-length'] = String(payload.length)
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        clearTimeout(timer)
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: parse(text),
          contentType: String(res.headers['content-type'] ?? ''),
        })
      })
      res.on('error', reject)
    })
    const timer = setTimeout(() => {
      req.destroy()
      reject(new Error(`${method} ${path} got no answer within ${opts.timeoutMs ?? 5000} ms`))
    }, opts.timeoutMs ?? 5000)
    req.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    if (payload && opts.chunked) {
      // Several writes so the server sees a streamed body without a declared length.
      const step = Math.max(1, Math.ceil(payload.length / 4))
      for (let i = 0; i < payload.length; i += step) req.write(payload.subarray(i, i + step))
      req.end()
    } else req.end(payload)
  })
}

/** Raw bytes to the HTTP port; resolves with whatever comes back before the server closes (or the deadline). */
export function rawHttp(base: string, bytes: string, timeoutMs = 3000): Promise<string> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: url.hostname, port: Number(url.port) }, () => socket.write(bytes))
    let out = ''
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(out)
    }, timeoutMs)
    socket.on('data', (d: Buffer) => (out += d.toString()))
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(out)
    })
    socket.on('error', (err) => {
      clearTimeout(timer)
      if (out) resolve(out)
      else reject(err)
    })
  })
}

/** Our generic error body: exactly code, message and details (null when there are none). */
export function expectGenericError(answer: HttpAnswer, status: number, code: string): void {
  expect(answer.status, answer.text).toBe(status)
  expect(answer.contentType).toMatch(/^application\/json/)
  expect(Object.keys(answer.json ?? {}).sort()).toEqual(['code', 'details', 'message'])
  expect(answer.json).toMatchObject({ code, message: expect.any(String) })
}

/** Butler's error body (Fastify's http-errors): statusCode, error, message; our code may ride along. */
export function expectButlerError(answer: HttpAnswer, status: number): void {
  expect(answer.status, answer.text).toBe(status)
  expect(answer.contentType).toMatch(/^application\/json/)
  expect(answer.json).toMatchObject({ statusCode: status, error: STATUS_CODES[status], message: expect.any(String) })
}
