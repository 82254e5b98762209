import { createHash } from 'node:crypto'
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { call, type HttpAnswer } from '../http/http-helpers.js'

/**
 * A sensebus with file capabilities over a real directory tree:
 *
 *   base/sb/in     copy and move source, delete, list
 *   base/sb/out    copy and move destination, delete, list
 *   base/sb/made   dir/create root
 *   base/sb/qvd    dir/create-qvd root
 *   base/outside   never approved: its contents must never change
 *
 * `C:\Data` and `\\fileserver\share` are mapped to base/sb.
 */
export interface FileRig {
  sb: TestApp
  client: TestClient
  base: string
  root: string
  dirs: { in: string; out: string; made: string; qvd: string; outside: string }
  http(method: string, path: string, opts?: Parameters<typeof call>[3]): Promise<HttpAnswer>
  /** Everything under base except base/sb: names, types, sizes, content hashes, link targets. */
  outsideSnapshot(): Promise<string[]>
  stop(): Promise<void>
}

async function walk(dir: string, skip: string, out: string[]): Promise<void> {
  for (const name of (await readdir(dir)).sort()) {
    const p = join(dir, name)
    if (p === skip) continue
    const st = await lstat(p)
    if (st.isSymbolicLink()) out.push(`${p} -> ${await readlink(p)}`)
    else if (st.isDirectory()) {
      out.push(`${p}/`)
      await walk(p, skip, out)
    } else {
      const hash = createHash('sha256')
        .update(await readFile(p))
        .digest('hex')
      out.push(`${p} ${st.size} ${hash} ${st.mtimeMs}`)
    }
  }
}

export async function startFileRig(overrides: Record<string, unknown> = {}): Promise<FileRig> {
  const base = await realpath(await mkdtemp(join(tmpdir(), 'files-rig-')))
  const root = join(base, 'sb')
  const dirs = {
    in: join(root, 'in'),
    out: join(root, 'out'),
    made: join(root, 'made'),
    qvd: join(root, 'qvd'),
    outside: join(base, 'outside'),
  }
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true })
  await writeFile(join(dirs.outside, 'secret.txt'), 'outside secret\n')
  await writeFile(join(base, 'top-secret.txt'), 'next to the sandbox\n')
  const sb = await startTestApp({
    overrides: {
      'files.pathMappings': [
        { from: 'C:\\Data', to: root },
        { from: '\\\\fileserver\\share', to: root },
      ],
      'capabilities.file.fileCopyApprovedDirectories': [{ fromDirectory: dirs.in, toDirectory: dirs.out }],
      'capabilities.file.fileMoveApprovedDirectories': [{ fromDirectory: dirs.in, toDirectory: dirs.out }],
      'capabilities.file.fileDeleteApprovedDirectories': [dirs.in, dirs.out],
      'capabilities.file.dirCreateApprovedDirectories': [dirs.made],
      'capabilities.file.fileListApprovedDirectories': [dirs.in, dirs.out],
      'capabilities.file.qvdPath': dirs.qvd,
      ...overrides,
    },
  })
  const client = await connect(sb.mqttUrl)
  return {
    sb,
    client,
    base,
    root,
    dirs,
    http: (method, path, opts) => call(sb.httpUrl, method, path, opts),
    async outsideSnapshot() {
      const out: string[] = []
      await walk(base, root, out)
      return out
    },
    async stop() {
      await client.end()
      await sb.stop({ clean: true })
      await rm(base, { recursive: true, force: true })
    },
  }
}
