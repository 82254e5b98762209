import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FileRig, startFileRig } from './file-harness.js'

/**
 * The requests the file subs of Butler's butler_subs.qvs send (CopyFile, MoveFile, DeleteFile,
 * CreateDir, CreateDirQVD), byte for byte: the body as the sub's `let vRequestBody = '…'` expands it
 * (backslashes already turned into `/` by the sub), POST through the 'Butler_POST' REST connection
 * (Content-Type application/json) with the sub's HTTPHEADER lines. Each gets Butler's answer.
 */
describe("Butler's load-script file subs, replayed", () => {
  let rig: FileRig
  /** The sub's `Replace('$(v)', '\', '/')` and `Replace('$(v)', '#', '%23')`. */
  const subPath = (p: string) => p.replace(/\\/g, '/').replace(/#/g, '%23')
  const post = (path: string, body: string, extra: Record<string, string> = {}) =>
    rig.http('POST', path, { body, headers: { 'Content-Type': 'application/json', ...extra } })

  beforeAll(async () => {
    rig = await startFileRig()
  })
  afterAll(async () => {
    await rig?.stop()
  })

  it("CopyFile('C:\\Data\\in\\sales.qvd', 'C:\\Data\\out\\2026\\sales.qvd', 'true', 'true') → 201", async () => {
    await writeFile(join(rig.dirs.in, 'sales.qvd'), 'QVD')
    const src = subPath('C:\\Data\\in\\sales.qvd')
    const dst = subPath('C:\\Data\\out\\2026\\sales.qvd')
    const body = `{"fromFile":"${src}", "toFile":"${dst}", "overwrite":"true", "preserveTimestamp":"true"}`
    expect(body).toBe(
      '{"fromFile":"C:/Data/in/sales.qvd", "toFile":"C:/Data/out/2026/sales.qvd", ' +
        '"overwrite":"true", "preserveTimestamp":"true"}',
    )
    const res = await post('/v4/filecopy', body, { 'X-HTTP-Method-Override': 'PUT' })
    expect(res.status, res.text).toBe(201)
    expect(res.json).toEqual({
      fromFile: 'C:/Data/in/sales.qvd',
      toFile: 'C:/Data/out/2026/sales.qvd',
      overwrite: true,
      preserveTimestamp: true,
    })
    expect(await readFile(join(rig.dirs.out, '2026/sales.qvd'), 'utf8')).toBe('QVD')
  })

  it('CopyFile with empty overwrite and preserveTimestamp arguments ("") → 201 with both false', async () => {
    await writeFile(join(rig.dirs.in, 'e.qvd'), 'E')
    const body =
      `{"fromFile":"${rig.dirs.in}/e.qvd", "toFile":"${rig.dirs.out}/e.qvd", ` +
      `"overwrite":"", "preserveTimestamp":""}`
    const res = await post('/v4/filecopy', body, { 'X-HTTP-Method-Override': 'PUT' })
    expect(res.status, res.text).toBe(201)
    expect(res.json).toMatchObject({ overwrite: false, preserveTimestamp: false })
  })

  it("MoveFile(src, dest, 'false') → 201 {fromFile, toFile, overwrite: false}", async () => {
    await writeFile(join(rig.dirs.in, 'move.qvd'), 'M')
    const body = `{"fromFile":"${rig.dirs.in}/move.qvd", "toFile":"${rig.dirs.out}/moved.qvd", "overwrite":"false"}`
    const res = await post('/v4/filemove', body, { 'X-HTTP-Method-Override': 'PUT' })
    expect(res.status, res.text).toBe(201)
    expect(res.json).toEqual({
      fromFile: `${rig.dirs.in}/move.qvd`,
      toFile: `${rig.dirs.out}/moved.qvd`,
      overwrite: false,
    })
    await expect(stat(join(rig.dirs.in, 'move.qvd'))).rejects.toThrow()
    expect(await readFile(join(rig.dirs.out, 'moved.qvd'), 'utf8')).toBe('M')
  })

  it('DeleteFile(file) → 204 with an empty body', async () => {
    await writeFile(join(rig.dirs.out, 'del.qvd'), 'D')
    const res = await post('/v4/filedelete', `{"deleteFile":"${subPath(join(rig.dirs.out, 'del.qvd'))}"}`, {
      'X-HTTP-Method-Override': 'DELETE',
    })
    expect(res.status, res.text).toBe(204)
    expect(res.text).toBe('')
    await expect(stat(join(rig.dirs.out, 'del.qvd'))).rejects.toThrow()
  })

  it('DeleteFile on a file outside the approved directories → 403, and it stays', async () => {
    const res = await post('/v4/filedelete', `{"deleteFile":"${rig.dirs.outside}/secret.txt"}`, {
      'X-HTTP-Method-Override': 'DELETE',
    })
    expect(res.status).toBe(403)
    expect(res.json).toMatchObject({ statusCode: 403, error: 'Forbidden' })
    expect(await readFile(join(rig.dirs.outside, 'secret.txt'), 'utf8')).toBe('outside secret\n')
  })

  it('CreateDir(dir) → 201 echoing {"directory"}', async () => {
    const dir = subPath(`${rig.dirs.made}\\scripts\\2026`)
    const res = await post('/v4/createdir', `{"directory":"${dir}"}`)
    expect(res.status, res.text).toBe(201)
    expect(res.json).toEqual({ directory: dir })
    expect((await stat(join(rig.dirs.made, 'scripts/2026'))).isDirectory()).toBe(true)
  })

  it('CreateDirQVD(\'sales\\archive\') → 201 echoing {"directory":"sales/archive"}', async () => {
    const res = await post('/v4/createdirqvd', `{"directory":"${subPath('sales\\archive')}"}`)
    expect(res.status, res.text).toBe(201)
    expect(res.json).toEqual({ directory: 'sales/archive' })
    expect((await stat(join(rig.dirs.qvd, 'sales/archive'))).isDirectory()).toBe(true)
  })

  it("a '#' the sub sent as %23 is read literally, as Butler read it (no such file → 400)", async () => {
    await writeFile(join(rig.dirs.in, 'a#b.qvd'), 'hash')
    const src = subPath(join(rig.dirs.in, 'a#b.qvd'))
    expect(src).toContain('a%23b.qvd')
    const flags = '"overwrite":"true", "preserveTimestamp":"false"}'
    const body = `{"fromFile":"${src}", "toFile":"${rig.dirs.out}/hash.qvd", ${flags}`
    const res = await post('/v4/filecopy', body, { 'X-HTTP-Method-Override': 'PUT' })
    expect(res.status).toBe(400)
    await writeFile(join(rig.dirs.in, 'a%23b.qvd'), 'literal')
    expect((await post('/v4/filecopy', body, { 'X-HTTP-Method-Override': 'PUT' })).status).toBe(201)
    expect(await readFile(join(rig.dirs.out, 'hash.qvd'), 'utf8')).toBe('literal')
  })
})
