import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../src/log.js'
import { afterWrites as flush, captureLines as capture } from '../helpers/log-capture.js'
import { DailyFile } from '../../src/logging/daily-file.js'
import { prettyLine } from '../../src/logging/pretty.js'

describe('log format', () => {
  it('is JSON when the console is not a terminal (auto)', async () => {
    const out = capture()
    createLogger({ destination: out.stream, isTTY: false }).child({ area: 'http' }).info({ port: 8080 }, 'listening')
    await flush()
    expect(JSON.parse(out.lines[0] as string)).toMatchObject({ level: 30, area: 'http', port: 8080, msg: 'listening' })
  })

  it('is readable lines when the console is a terminal (auto), or when forced', async () => {
    for (const opts of [{ isTTY: true }, { isTTY: false, format: 'pretty' as const }]) {
      const out = capture()
      createLogger({ destination: out.stream, ...opts })
        .child({ area: 'http' })
        .warn({ port: 8080, who: 'a b' }, 'listening')
      await flush()
      // Colour codes only on a terminal.
      const line = (out.lines[0] as string).replace(/\u001b\[\d+m/g, '')
      expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}\[http\] listening port=8080 who="a b"$/)
      expect(out.lines[0]?.includes('\u001b[')).toBe(opts.isTTY)
    }
  })

  it('is JSON on a terminal when forced', async () => {
    const out = capture()
    createLogger({ destination: out.stream, isTTY: true, format: 'json' }).info('x')
    await flush()
    expect(JSON.parse(out.lines[0] as string).msg).toBe('x')
  })

  it('shows the stack of an error-level line, and only the message of a warning', () => {
    const err = { type: 'Error', message: 'boom', stack: 'Error: boom\n    at here' }
    expect(prettyLine(JSON.stringify({ level: 50, time: 0, msg: 'failed', err }))).toContain(
      '    Error: boom\n        at here',
    )
    expect(prettyLine(JSON.stringify({ level: 40, time: 0, msg: 'odd', err }))).toContain('    Error: boom\n')
    expect(prettyLine(JSON.stringify({ level: 40, time: 0, msg: 'odd', err }))).not.toContain('at here')
  })

  it('still redacts secrets in readable lines', async () => {
    const out = capture()
    createLogger({ destination: out.stream, format: 'pretty' }).info({ password: 'hunter2' }, 'login')
    await flush()
    expect(out.lines[0]).not.toContain('hunter2')
  })
})

describe('log file', () => {
  it('writes a file per day and deletes those past the retention', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ops-logfile-'))
    // Left from earlier runs: one inside the retention, one outside it, and a file that is not ours.
    await writeFile(join(dir, 'sensebus.2026-03-08.log'), 'old\n')
    await writeFile(join(dir, 'sensebus.2026-03-02.log'), 'older\n')
    await writeFile(join(dir, 'notes.2026-01-01.log'), 'keep\n')
    let now = new Date(2026, 2, 10, 23, 59, 59).getTime()
    const file = new DailyFile({ dir, name: 'sensebus', retainDays: 7, now: () => now })
    file.write('first\n')
    now = new Date(2026, 2, 11, 0, 0, 1).getTime()
    file.write('second\n')
    file.close()
    expect((await readdir(dir)).sort()).toEqual([
      'notes.2026-01-01.log',
      'sensebus.2026-03-08.log',
      'sensebus.2026-03-10.log',
      'sensebus.2026-03-11.log',
    ])
    expect(await readFile(join(dir, 'sensebus.2026-03-10.log'), 'utf8')).toBe('first\n')
    expect(await readFile(join(dir, 'sensebus.2026-03-11.log'), 'utf8')).toBe('second\n')
  })

  it('receives the same lines as the console, as JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ops-logfile-'))
    const out = capture()
    const log = createLogger({
      destination: out.stream,
      format: 'pretty',
      file: { enabled: true, dir, name: 'sb', retainDays: 3, format: 'json' },
    })
    log.info({ n: 1 }, 'hello')
    log.debug('not at info level')
    await flush()
    const [name] = await readdir(dir)
    expect(name).toMatch(/^sb\.\d{4}-\d\d-\d\d\.log$/)
    const lines = (await readFile(join(dir, name as string), 'utf8')).trim().split('\n')
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['hello'])
    expect(out.lines).toHaveLength(1)
    expect(out.lines[0]).toContain('hello n=1')
  })
})
