import { readFileSync } from 'node:fs'
import { usage } from './exit.js'

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * The request body from the command line: JSON text, `-` for stdin, or `@file` (quoting JSON in
 * cmd.exe and PowerShell is painful; a file or a pipe avoids it). Nothing, or only whitespace, is the
 * empty request `{}`, as an empty MQTT payload is.
 */
export async function readRequestBody(arg: string | undefined): Promise<Record<string, unknown>> {
  let text = arg ?? ''
  let source = 'the argument'
  if (arg === '-') {
    text = await readStdin()
    source = 'stdin'
  } else if (arg?.startsWith('@')) {
    const file = arg.slice(1)
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw usage(
        `Cannot read the request from ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      )
    }
    source = file
  }
  if (text.trim() === '') return {}
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (err) {
    throw usage(`The request in ${source} is not valid JSON: ${(err as Error).message}`)
  }
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw usage(`The request in ${source} must be a JSON object, not ${describeJson(body)}`)
  return body as Record<string, unknown>
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return 'an array'
  return value === null ? 'null' : typeof value
}
