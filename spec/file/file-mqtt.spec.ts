import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { type FileRig, startFileRig } from './file-harness.js'

type Json = any

describe('file/* and dir/* over MQTT', () => {
  let rig: FileRig
  const ok = async (cap: string, body: Record<string, unknown>): Promise<Json> => {
    const env = (await rig.client.request(cap, body)) as Json
    expect(env.status, JSON.stringify(env)).toBe('ok')
    return env.data
  }
  const fails = async (cap: string, body: Record<string, unknown>, code: string): Promise<Json> => {
    const env = (await rig.client.request(cap, body)) as Json
    expect(env.status, JSON.stringify(env)).toBe('error')
    expect(env.error.code).toBe(code)
    return env.error
  }

  beforeAll(async () => {
    rig = await startFileRig({
      'capabilities.file.maxListEntries': 4,
      'capabilities.file.maxDeleteEntries': 6,
      'capabilities.file.maxCopyBytes': 1024 * 1024,
    })
  })
  afterAll(async () => {
    await rig?.stop()
  })

  describe('file/copy', () => {
    it('copies a file, creating missing destination directories, and reports the real paths', async () => {
      await writeFile(join(rig.dirs.in, 'a.qvd'), 'AAAA')
      const d = await ok('file/copy', {
        fromFile: join(rig.dirs.in, 'a.qvd'),
        toFile: join(rig.dirs.out, 'new/deep/a.qvd'),
      })
      expect(d).toMatchObject({ outcome: 'done', bytes: 4, replaced: false, to: join(rig.dirs.out, 'new/deep/a.qvd') })
      expect(await readFile(join(rig.dirs.out, 'new/deep/a.qvd'), 'utf8')).toBe('AAAA')
      expect(await readFile(join(rig.dirs.in, 'a.qvd'), 'utf8')).toBe('AAAA')
    })

    it('leaves an existing destination alone without overwrite (skipped), replaces it with overwrite', async () => {
      await writeFile(join(rig.dirs.in, 'b.qvd'), 'new')
      await writeFile(join(rig.dirs.out, 'b.qvd'), 'old')
      const req = { fromFile: join(rig.dirs.in, 'b.qvd'), toFile: join(rig.dirs.out, 'b.qvd') }
      expect(await ok('file/copy', req)).toMatchObject({ outcome: 'skipped', replaced: false })
      expect(await readFile(join(rig.dirs.out, 'b.qvd'), 'utf8')).toBe('old')
      expect(await ok('file/copy', { ...req, overwrite: true })).toMatchObject({ outcome: 'done', replaced: true })
      expect(await readFile(join(rig.dirs.out, 'b.qvd'), 'utf8')).toBe('new')
    })

    it('preserveTimestamp keeps the modified time; without it the copy is new', async () => {
      const src = join(rig.dirs.in, 'ts.qvd')
      await writeFile(src, 'ts')
      const past = new Date('2020-01-02T03:04:05Z')
      await utimes(src, past, past)
      await ok('file/copy', { fromFile: src, toFile: join(rig.dirs.out, 'ts1.qvd'), preserveTimestamp: true })
      await ok('file/copy', { fromFile: src, toFile: join(rig.dirs.out, 'ts2.qvd') })
      expect((await stat(join(rig.dirs.out, 'ts1.qvd'))).mtime.toISOString()).toBe(past.toISOString())
      expect((await stat(join(rig.dirs.out, 'ts2.qvd'))).mtimeMs).toBeGreaterThan(past.getTime() + 1000)
    })

    it('dryRun says what would happen and changes nothing', async () => {
      await writeFile(join(rig.dirs.in, 'dry.qvd'), '12345')
      await writeFile(join(rig.dirs.out, 'dry-exists.qvd'), 'x')
      const d = await ok('file/copy', {
        fromFile: join(rig.dirs.in, 'dry.qvd'),
        toFile: join(rig.dirs.out, 'not-yet/dry.qvd'),
        dryRun: true,
      })
      expect(d).toMatchObject({ outcome: 'dry-run', dryRun: true, bytes: 5 })
      expect(d.message).toMatch(/^Would copy .*dry\.qvd .*\(5 bytes\)$/)
      await expect(stat(join(rig.dirs.out, 'not-yet'))).rejects.toThrow()
      const kept = await ok('file/copy', {
        fromFile: join(rig.dirs.in, 'dry.qvd'),
        toFile: join(rig.dirs.out, 'dry-exists.qvd'),
        dryRun: true,
      })
      expect(kept.message).toContain('nothing would be copied')
      const replace = await ok('file/copy', {
        fromFile: join(rig.dirs.in, 'dry.qvd'),
        toFile: join(rig.dirs.out, 'dry-exists.qvd'),
        overwrite: true,
        dryRun: true,
      })
      expect(replace).toMatchObject({ replaced: true })
      expect(replace.message).toContain('replacing the existing file')
      expect(await readFile(join(rig.dirs.out, 'dry-exists.qvd'), 'utf8')).toBe('x')
    })

    it('a missing source is NOT_FOUND, a directory source VALIDATION_FAILED, a wrong pair FORBIDDEN', async () => {
      await fails(
        'file/copy',
        { fromFile: join(rig.dirs.in, 'nope.qvd'), toFile: join(rig.dirs.out, 'never/made/n.qvd') },
        'NOT_FOUND',
      )
      // Checked before the destination's directories are made: a failed call leaves nothing behind.
      await expect(stat(join(rig.dirs.out, 'never'))).rejects.toThrow()
      await mkdir(join(rig.dirs.in, 'adir'), { recursive: true })
      await fails(
        'file/copy',
        { fromFile: join(rig.dirs.in, 'adir'), toFile: join(rig.dirs.out, 'adir') },
        'VALIDATION_FAILED',
      )
      await writeFile(join(rig.dirs.out, 'back.qvd'), 'b')
      // Pairs are directional: out → in is not approved.
      await fails(
        'file/copy',
        { fromFile: join(rig.dirs.out, 'back.qvd'), toFile: join(rig.dirs.in, 'back.qvd') },
        'FORBIDDEN',
      )
    })

    it('a file larger than maxCopyBytes is LIMIT_EXCEEDED and not copied', async () => {
      await writeFile(join(rig.dirs.in, 'huge.qvd'), Buffer.alloc(1024 * 1024 + 1))
      await fails(
        'file/copy',
        { fromFile: join(rig.dirs.in, 'huge.qvd'), toFile: join(rig.dirs.out, 'huge.qvd') },
        'LIMIT_EXCEEDED',
      )
      await expect(stat(join(rig.dirs.out, 'huge.qvd'))).rejects.toThrow()
    })

    it('Windows forms map through files.pathMappings: C:\\Data\\… and \\\\fileserver\\share\\…', async () => {
      await writeFile(join(rig.dirs.in, 'win.qvd'), 'win')
      const d = await ok('file/copy', {
        fromFile: 'C:\\Data\\in\\win.qvd',
        toFile: '\\\\FileServer\\Share\\out/win.qvd',
      })
      expect(d).toMatchObject({
        from: join(rig.dirs.in, 'win.qvd'),
        to: join(rig.dirs.out, 'win.qvd'),
        outcome: 'done',
      })
      expect(await readFile(join(rig.dirs.out, 'win.qvd'), 'utf8')).toBe('win')
    })
  })

  describe('file/move', () => {
    it('moves a file; an existing destination is CONFLICT without overwrite and replaced with it', async () => {
      await writeFile(join(rig.dirs.in, 'm1.qvd'), 'one')
      const d = await ok('file/move', {
        fromFile: join(rig.dirs.in, 'm1.qvd'),
        toFile: join(rig.dirs.out, 'moved/m1.qvd'),
      })
      expect(d).toMatchObject({ outcome: 'done', replaced: false })
      await expect(stat(join(rig.dirs.in, 'm1.qvd'))).rejects.toThrow()
      expect(await readFile(join(rig.dirs.out, 'moved/m1.qvd'), 'utf8')).toBe('one')

      await writeFile(join(rig.dirs.in, 'm2.qvd'), 'two')
      const req = { fromFile: join(rig.dirs.in, 'm2.qvd'), toFile: join(rig.dirs.out, 'moved/m1.qvd') }
      await fails('file/move', req, 'CONFLICT')
      expect(await readFile(join(rig.dirs.in, 'm2.qvd'), 'utf8')).toBe('two')
      expect(await ok('file/move', { ...req, overwrite: true })).toMatchObject({ replaced: true })
      expect(await readFile(join(rig.dirs.out, 'moved/m1.qvd'), 'utf8')).toBe('two')
    })

    it('moves a directory with its contents; dryRun moves nothing', async () => {
      await mkdir(join(rig.dirs.in, 'tree/sub'), { recursive: true })
      await writeFile(join(rig.dirs.in, 'tree/sub/f.txt'), 'f')
      const req = { fromFile: join(rig.dirs.in, 'tree'), toFile: join(rig.dirs.out, 'tree') }
      expect(await ok('file/move', { ...req, dryRun: true })).toMatchObject({ outcome: 'dry-run' })
      expect(await readFile(join(rig.dirs.in, 'tree/sub/f.txt'), 'utf8')).toBe('f')
      await ok('file/move', req)
      expect(await readFile(join(rig.dirs.out, 'tree/sub/f.txt'), 'utf8')).toBe('f')
    })
  })

  describe('file/delete', () => {
    it('deletes a file; a missing one is NOT_FOUND; dryRun keeps it', async () => {
      await writeFile(join(rig.dirs.out, 'del.qvd'), 'x')
      expect(await ok('file/delete', { file: join(rig.dirs.out, 'del.qvd'), dryRun: true })).toMatchObject({
        outcome: 'dry-run',
        entries: 1,
      })
      await stat(join(rig.dirs.out, 'del.qvd'))
      expect(await ok('file/delete', { file: join(rig.dirs.out, 'del.qvd') })).toMatchObject({ outcome: 'done' })
      await expect(stat(join(rig.dirs.out, 'del.qvd'))).rejects.toThrow()
      await fails('file/delete', { file: join(rig.dirs.out, 'del.qvd') }, 'NOT_FOUND')
    })

    it('a non-empty directory needs recursive; the tree is counted and removed', async () => {
      await mkdir(join(rig.dirs.in, 'old/a/b'), { recursive: true })
      await writeFile(join(rig.dirs.in, 'old/a/b/1.txt'), '1')
      await writeFile(join(rig.dirs.in, 'old/2.txt'), '2')
      await fails('file/delete', { file: join(rig.dirs.in, 'old') }, 'CONFLICT')
      expect(await ok('file/delete', { file: join(rig.dirs.in, 'old'), recursive: true })).toMatchObject({ entries: 5 })
      await expect(stat(join(rig.dirs.in, 'old'))).rejects.toThrow()
    })

    it('a tree larger than maxDeleteEntries is LIMIT_EXCEEDED and nothing of it is deleted', async () => {
      const big = join(rig.dirs.in, 'big')
      await mkdir(big, { recursive: true })
      for (let i = 0; i < 7; i++) await writeFile(join(big, `f${i}`), 'x')
      await fails('file/delete', { file: big, recursive: true }, 'LIMIT_EXCEEDED')
      expect((await readdir(big)).length).toBe(7)
    })

    it('an approved directory itself is not deletable', async () => {
      await fails('file/delete', { file: rig.dirs.out, recursive: true }, 'FORBIDDEN')
      await stat(rig.dirs.out)
    })
  })

  describe('dir/create and dir/create-qvd', () => {
    it('creates missing levels, answers skipped when it exists, dryRun lists what it would create', async () => {
      const target = join(rig.dirs.made, '2026/11/28')
      expect(await ok('dir/create', { directory: target, dryRun: true })).toMatchObject({
        outcome: 'dry-run',
        created: [join(rig.dirs.made, '2026'), join(rig.dirs.made, '2026/11'), target],
      })
      await expect(stat(join(rig.dirs.made, '2026'))).rejects.toThrow()
      expect(await ok('dir/create', { directory: target })).toMatchObject({ outcome: 'done', path: target })
      expect((await stat(target)).isDirectory()).toBe(true)
      expect(await ok('dir/create', { directory: target })).toMatchObject({ outcome: 'skipped', created: [] })
    })

    it('dir/create outside the approved directories is FORBIDDEN (Butler created anywhere)', async () => {
      await fails('dir/create', { directory: join(rig.base, 'escaped') }, 'FORBIDDEN')
      await expect(stat(join(rig.base, 'escaped'))).rejects.toThrow()
    })

    it('dir/create-qvd joins the QVD root; a traversal out of it is FORBIDDEN', async () => {
      expect(await ok('dir/create-qvd', { directory: 'sales\\2026' })).toMatchObject({
        path: join(rig.dirs.qvd, 'sales/2026'),
        outcome: 'done',
      })
      expect(await ok('dir/create-qvd', { directory: '/leading' })).toMatchObject({
        path: join(rig.dirs.qvd, 'leading'),
      })
      const e = await fails('dir/create-qvd', { directory: '../qvd-escape' }, 'FORBIDDEN')
      expect(e.message).toBe('Directory must be within the QVD folder')
      await expect(stat(join(rig.root, 'qvd-escape'))).rejects.toThrow()
    })
  })

  describe('file/list', () => {
    it('lists names sorted with types and sizes; pattern and limit; links reported, not followed', async () => {
      const d = join(rig.dirs.in, 'listing')
      await mkdir(join(d, 'sub'), { recursive: true })
      for (const n of ['b.qvd', 'a.qvd', 'c.txt']) await writeFile(join(d, n), n)
      const all = await ok('file/list', { directory: d })
      expect(all.entries.map((e: Json) => [e.name, e.type, e.size])).toEqual([
        ['a.qvd', 'file', 5],
        ['b.qvd', 'file', 5],
        ['c.txt', 'file', 5],
        ['sub', 'directory', 0],
      ])
      expect(all.truncated).toBe(false)
      expect((await ok('file/list', { directory: d, pattern: '*.QVD' })).entries.map((e: Json) => e.name)).toEqual([
        'a.qvd',
        'b.qvd',
      ])
      const limited = await ok('file/list', { directory: d, limit: 2 })
      expect(limited.entries).toHaveLength(2)
      expect(limited.truncated).toBe(true)
      await writeFile(join(d, 'd.txt'), 'd')
      const capped = await ok('file/list', { directory: d, limit: 100 })
      expect([capped.entries.length, capped.truncated]).toEqual([4, true])
      await fails('file/list', { directory: rig.dirs.made }, 'FORBIDDEN')
    })
  })

  describe('audit and events', () => {
    it('every operation, refused ones too, is an audit record and an event', async () => {
      const events = await rig.client.collect('sense/event/file/#')
      await writeFile(join(rig.dirs.in, 'audited.qvd'), 'x')
      await ok('file/copy', { fromFile: join(rig.dirs.in, 'audited.qvd'), toFile: join(rig.dirs.out, 'audited.qvd') })
      await fails('file/delete', { file: join(rig.dirs.outside, 'secret.txt') }, 'FORBIDDEN')
      await expect
        .poll(() => events.map((e) => e.topic))
        .toEqual(expect.arrayContaining(['sense/event/file/copied', 'sense/event/file/refused']))
      const refused = JSON.parse(events.find((e) => e.topic === 'sense/event/file/refused')?.payload ?? '{}')
      expect(refused).toMatchObject({
        type: 'sense.file.refused',
        data: { operation: 'file/delete', result: 'refused', code: 'FORBIDDEN' },
      })
      const { records } = await ok('file/audit', { limit: 2 })
      expect(records.map((r: Json) => [r.operation, r.result])).toEqual([
        ['file/delete', 'refused'],
        ['file/copy', 'done'],
      ])
      expect(records[1].real).toEqual({ from: join(rig.dirs.in, 'audited.qvd'), to: join(rig.dirs.out, 'audited.qvd') })
    })
  })
})

describe('file capabilities without approved directories', () => {
  it('every operation answers NOT_CONFIGURED naming the config key', async () => {
    const sb = await startTestApp()
    const client = await connect(sb.mqttUrl)
    try {
      const cases: Array<[string, Record<string, unknown>, string]> = [
        ['file/copy', { fromFile: '/tmp/a', toFile: '/tmp/b' }, 'fileCopyApprovedDirectories'],
        ['file/move', { fromFile: '/tmp/a', toFile: '/tmp/b' }, 'fileMoveApprovedDirectories'],
        ['file/delete', { file: '/tmp/a' }, 'fileDeleteApprovedDirectories'],
        ['dir/create', { directory: '/tmp/files-never' }, 'dirCreateApprovedDirectories'],
        ['dir/create-qvd', { directory: 'x' }, 'qvdPath'],
        ['file/list', { directory: '/tmp' }, 'fileListApprovedDirectories'],
      ]
      for (const [cap, body, key] of cases) {
        const env = (await client.request(cap, body)) as Json
        expect(env.error, cap).toMatchObject({ code: 'NOT_CONFIGURED', message: expect.stringContaining(key) })
      }
    } finally {
      await client.end()
      await sb.stop({ clean: true })
    }
  })
})
