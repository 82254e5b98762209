import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServerProcess, startServer } from '../helpers/process.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const STAGED = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'tsconfig.json', 'tsconfig.build.json']
const STAGED_DIRS = ['src', 'templates', 'topics']

/**
 * `npm pack` as a publisher runs it, then the tarball installed into an empty folder and started.
 * Packed from a copy of the sources so the prepack build never touches the dist/ other specs run.
 */
describe('the packed tarball', () => {
  let work: string
  let tarball: string
  let files: string[]
  let installed: string
  let server: ServerProcess | undefined

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ops-pack-'))
    const stage = join(work, 'stage')
    await mkdir(stage)
    for (const f of STAGED) await cp(join(ROOT, f), join(stage, f))
    for (const d of STAGED_DIRS) await cp(join(ROOT, d), join(stage, d), { recursive: true })
    await symlink(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'junction')
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: stage,
      maxBuffer: 64 * 1024 * 1024,
    })
    const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
    tarball = join(work, info?.filename as string)
    files = (info?.files ?? []).map((f) => f.path)

    installed = join(work, 'app')
    await mkdir(installed)
    await writeFile(join(installed, 'package.json'), '{"name":"ops-pack-check","private":true}\n')
    // `npm install <tgz>` would need the registry's package documents, which `npm ci` does not cache, so
    // it fails offline. Instead the package comes from the tarball and only the dependencies its
    // package.json lists are linked in: a dependency missing from that list fails to resolve, as it
    // would for a user.
    const pkgDir = join(installed, 'node_modules', 'sensebus')
    await mkdir(pkgDir, { recursive: true })
    await run('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1'])
    const deps = Object.keys(JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')).dependencies)
    for (const dep of deps) {
      const link = join(installed, 'node_modules', dep)
      await mkdir(join(link, '..'), { recursive: true })
      await symlink(join(ROOT, 'node_modules', dep), link, 'junction')
    }
  }, 300_000)

  afterAll(async () => {
    server?.child.kill('SIGTERM')
    if (server) await server.exited
    await rm(work, { recursive: true, force: true })
  })

  it('holds the build, README, LICENSE and CHANGELOG, and no source maps', () => {
    expect(files).toEqual(
      expect.arrayContaining(['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json', 'dist/cli/index.js']),
    )
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([])
    const shippedSources = ['src/sim/fixtures/', 'src/web/public/']
    expect(files.filter((f) => f.startsWith('src/') && !shippedSources.some((d) => f.startsWith(d)))).toEqual([])
    expect(files).toEqual(expect.arrayContaining(['src/web/public/index.html', 'src/web/public/js/app.js']))
    expect(files.filter((f) => f.startsWith('dist/') && !f.endsWith('.js'))).toEqual([])
  })

  it('builds in prepack, not on install, and its bin runs under node', async () => {
    const pkgDir = join(installed, 'node_modules', 'sensebus')
    const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8'))
    expect((await readFile(join(pkgDir, pkg.bin.sensebus), 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node')
    expect(pkg.scripts.prepare).toBeUndefined()
    expect(pkg.scripts.install).toBeUndefined()
    expect(pkg.scripts.postinstall).toBeUndefined()
    expect(pkg.scripts.prepack).toBeDefined()
  })

  it('starts with `sensebus start` from the install and answers a request', async () => {
    const cli = join(installed, 'node_modules', 'sensebus', 'dist', 'cli', 'index.js')
    const config = join(work, 'sensebus.yaml')
    await writeFile(
      config,
      `dataDir: ${JSON.stringify(join(work, 'data'))}\ncapabilities:\n  alert:\n    udp:\n      port: 0\n`,
    )
    server = await startServer(['--config', config], {}, cli)
    const http = await fetch(`${server.httpUrl}/v4/butlerping`)
    expect(http.status).toBe(200)
    expect(await http.json()).toMatchObject({ response: 'Butler reporting for duty' })
    // The web view finds its files through the source tree, and mqtt.js' browser build in the dependency.
    expect((await fetch(`${server.httpUrl}/`)).status).toBe(200)
    expect((await fetch(`${server.httpUrl}/web/vendor/mqtt.esm.js`)).status).toBe(200)
    // The installed CLI as a client too (execFile rejects on a non-zero exit).
    const answer = await run(process.execPath, [cli, 'request', 'util/ping', '--url', server.mqttUrl])
    expect(answer.stdout).toMatch(/"status":\s*"ok"/)
  }, 60_000)
})
