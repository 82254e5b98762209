import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp } from '../helpers/app.js'
import { call, expectButlerError, expectGenericError } from '../http/http-helpers.js'
import { type FileRig, startFileRig } from './file-harness.js'

const json = { 'content-type': 'application/json' }

describe("Butler's /v4 file routes over HTTP", () => {
  let rig: FileRig
  const put = (path: string, body: unknown) => rig.http('PUT', path, { body: JSON.stringify(body), headers: json })

  beforeAll(async () => {
    rig = await startFileRig()
  })
  afterAll(async () => {
    await rig?.stop()
  })

  describe('PUT /v4/filecopy', () => {
    it('→ 201 echoing the normalised paths and the flags as booleans', async () => {
      await writeFile(join(rig.dirs.in, 'c1.qvd'), 'c1')
      const res = await put('/v4/filecopy', {
        fromFile: `${rig.dirs.in}//c1.qvd`,
        toFile: `${rig.dirs.out}/x/../c1.qvd`,
        overwrite: true,
        preserveTimestamp: 'true',
      })
      expect(res.status, res.text).toBe(201)
      expect(res.json).toEqual({
        fromFile: join(rig.dirs.in, 'c1.qvd'),
        toFile: join(rig.dirs.out, 'c1.qvd'),
        overwrite: true,
        preserveTimestamp: true,
      })
      expect(await readFile(join(rig.dirs.out, 'c1.qvd'), 'utf8')).toBe('c1')
    })

    it('an existing destination with overwrite "false" → 201 and the file is left alone, as in Butler', async () => {
      await writeFile(join(rig.dirs.in, 'c2.qvd'), 'new')
      await writeFile(join(rig.dirs.out, 'c2.qvd'), 'old')
      const res = await put('/v4/filecopy', {
        fromFile: join(rig.dirs.in, 'c2.qvd'),
        toFile: join(rig.dirs.out, 'c2.qvd'),
        overwrite: 'false',
      })
      expect(res.status).toBe(201)
      expect(res.json).toMatchObject({ overwrite: false, preserveTimestamp: false })
      expect(await readFile(join(rig.dirs.out, 'c2.qvd'), 'utf8')).toBe('old')
    })

    it('missing or empty parameters → 400, a missing source → 400, no approved pair → 403', async () => {
      expectButlerError(await put('/v4/filecopy', { toFile: join(rig.dirs.out, 'z') }), 400)
      expectButlerError(await put('/v4/filecopy', { fromFile: '', toFile: join(rig.dirs.out, 'z') }), 400)
      expectButlerError(await rig.http('PUT', '/v4/filecopy'), 400)
      const missing = await put('/v4/filecopy', {
        fromFile: join(rig.dirs.in, 'none'),
        toFile: join(rig.dirs.out, 'z'),
      })
      expectButlerError(missing, 400)
      expect(missing.json.code).toBe('NOT_FOUND')
      const outside = await put('/v4/filecopy', {
        fromFile: join(rig.dirs.outside, 'secret.txt'),
        toFile: join(rig.dirs.out, 'secret.txt'),
      })
      expectButlerError(outside, 403)
      await expect(stat(join(rig.dirs.out, 'secret.txt'))).rejects.toThrow()
    })

    it('an unmapped UNC path → 400, as Butler answers off Windows', async () => {
      const res = await put('/v4/filecopy', { fromFile: '\\\\other\\share\\a.qvd', toFile: join(rig.dirs.out, 'a') })
      expectButlerError(res, 400)
      expect(res.json.message).toMatch(/UNC/)
    })
  })

  describe('PUT /v4/filemove', () => {
    it('→ 201 {fromFile, toFile, overwrite}; onto an existing file without overwrite → 500 as Butler', async () => {
      await writeFile(join(rig.dirs.in, 'm.qvd'), 'm')
      const res = await put('/v4/filemove', {
        fromFile: join(rig.dirs.in, 'm.qvd'),
        toFile: join(rig.dirs.out, 'm.qvd'),
        overwrite: 'true',
      })
      expect(res.status, res.text).toBe(201)
      expect(res.json).toEqual({
        fromFile: join(rig.dirs.in, 'm.qvd'),
        toFile: join(rig.dirs.out, 'm.qvd'),
        overwrite: true,
      })
      await writeFile(join(rig.dirs.in, 'm.qvd'), 'again')
      const clash = await put('/v4/filemove', {
        fromFile: join(rig.dirs.in, 'm.qvd'),
        toFile: join(rig.dirs.out, 'm.qvd'),
      })
      expectButlerError(clash, 500)
      expect(clash.json.code).toBe('CONFLICT')
      expect(await readFile(join(rig.dirs.out, 'm.qvd'), 'utf8')).toBe('m')
    })

    it('a missing source → 400, outside the pairs → 403', async () => {
      expectButlerError(
        await put('/v4/filemove', { fromFile: join(rig.dirs.in, 'gone'), toFile: join(rig.dirs.out, 'g') }),
        400,
      )
      expectButlerError(
        await put('/v4/filemove', { fromFile: join(rig.dirs.outside, 'secret.txt'), toFile: join(rig.dirs.out, 's') }),
        403,
      )
      expect(await readFile(join(rig.dirs.outside, 'secret.txt'), 'utf8')).toBe('outside secret\n')
    })
  })

  describe('DELETE /v4/filedelete', () => {
    it('→ 204 with no body; the file is gone; then 400 as it no longer exists', async () => {
      await writeFile(join(rig.dirs.out, 'd.qvd'), 'd')
      const body = JSON.stringify({ deleteFile: join(rig.dirs.out, 'd.qvd') })
      const res = await rig.http('DELETE', '/v4/filedelete', { body, headers: json })
      expect(res.status, res.text).toBe(204)
      expect(res.text).toBe('')
      await expect(stat(join(rig.dirs.out, 'd.qvd'))).rejects.toThrow()
      expectButlerError(await rig.http('DELETE', '/v4/filedelete', { body, headers: json }), 400)
    })

    it('a missing parameter → 400; outside the approved directories → 403 and nothing is deleted', async () => {
      expectButlerError(await rig.http('DELETE', '/v4/filedelete', { body: '{}', headers: json }), 400)
      const res = await rig.http('DELETE', '/v4/filedelete', {
        body: JSON.stringify({ deleteFile: join(rig.dirs.outside, 'secret.txt') }),
        headers: json,
      })
      expectButlerError(res, 403)
      expect(await readFile(join(rig.dirs.outside, 'secret.txt'), 'utf8')).toBe('outside secret\n')
    })
  })

  describe('POST /v4/createdir and /v4/createdirqvd', () => {
    it('createdir → 201 echoing the body; outside the approved directories → 403 (Butler: anywhere)', async () => {
      const directory = join(rig.dirs.made, 'a/b')
      const res = await rig.http('POST', '/v4/createdir', { body: JSON.stringify({ directory }), headers: json })
      expect(res.status, res.text).toBe(201)
      expect(res.json).toEqual({ directory })
      expect((await stat(directory)).isDirectory()).toBe(true)
      const out = await rig.http('POST', '/v4/createdir', {
        body: JSON.stringify({ directory: join(rig.base, 'anywhere') }),
        headers: json,
      })
      expectButlerError(out, 403)
      await expect(stat(join(rig.base, 'anywhere'))).rejects.toThrow()
      expectButlerError(await rig.http('POST', '/v4/createdir', { body: '{}', headers: json }), 400)
    })

    it('createdirqvd → 201 echoing the body; a traversal → 403 "Directory must be within the QVD folder"', async () => {
      const res = await rig.http('POST', '/v4/createdirqvd', { body: '{"directory":"2026/Q4"}', headers: json })
      expect(res.status, res.text).toBe(201)
      expect(res.json).toEqual({ directory: '2026/Q4' })
      expect((await stat(join(rig.dirs.qvd, '2026/Q4'))).isDirectory()).toBe(true)
      const bad = await rig.http('POST', '/v4/createdirqvd', { body: '{"directory":"../../x"}', headers: json })
      expectButlerError(bad, 403)
      expect(bad.json.message).toBe('Directory must be within the QVD folder')
    })
  })

  it('file/list through the generic route: POST /api/v1/file/list → 200 with the entries', async () => {
    await writeFile(join(rig.dirs.in, 'listed.qvd'), 'l')
    const res = await rig.http('POST', '/api/v1/file/list', {
      body: JSON.stringify({ directory: rig.dirs.in, pattern: 'listed.*' }),
      headers: json,
    })
    expect(res.status, res.text).toBe(200)
    expect(res.json.entries).toEqual([expect.objectContaining({ name: 'listed.qvd', type: 'file', size: 1 })])
    expectGenericError(
      await rig.http('POST', '/api/v1/file/list', { body: JSON.stringify({ directory: rig.base }), headers: json }),
      403,
      'FORBIDDEN',
    )
  })

  it('HTTP calls are audited like MQTT ones, as via http', async () => {
    await rig.http('DELETE', '/v4/filedelete', {
      body: JSON.stringify({ deleteFile: join(rig.dirs.outside, 'secret.txt') }),
      headers: json,
    })
    const env = (await rig.client.request('file/audit', { limit: 1 })) as any
    expect(env.data.records[0]).toMatchObject({
      operation: 'file/delete',
      result: 'refused',
      via: 'http',
      paths: { file: join(rig.dirs.outside, 'secret.txt') },
    })
  })

  it('the routes are listed by GET /v4/configfile/endpointsenabled', async () => {
    const res = await rig.http('GET', '/v4/configfile/endpointsenabled')
    expect(res.json).toEqual(
      expect.arrayContaining(['fileCopy', 'fileMove', 'fileDelete', 'createDir', 'createDirQVD']),
    )
  })
})

describe('Butler file routes with nothing approved', () => {
  it('→ 403 with a message naming the config key', async () => {
    const sb = await startTestApp()
    try {
      const res = await call(sb.httpUrl, 'POST', '/v4/createdir', {
        body: JSON.stringify({ directory: '/tmp/files-never-made' }),
        headers: json,
      })
      expectButlerError(res, 403)
      expect(res.json).toMatchObject({
        code: 'NOT_CONFIGURED',
        message: expect.stringContaining('dirCreateApprovedDirectories'),
      })
      await expect(stat('/tmp/files-never-made')).rejects.toThrow()
    } finally {
      await sb.stop({ clean: true })
    }
  })
})
