import { type ChildProcess, spawn } from 'node:child_process'
import { link, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FileRig, startFileRig } from '../file/file-harness.js'

type Json = any
type Body = Record<string, unknown>

/**
 * Attempts to reach outside the approved directories through every file capability. An attempt is
 * held when it is refused, or when it succeeds and everything it reports acting on lies inside the
 * sandbox; and the tree outside the sandbox (and a few absolute canaries) must be byte for byte as it
 * was before. Every fixture (links, hard links) is made before the first snapshot.
 */
describe('file capabilities: escape attempts', () => {
  let rig: FileRig
  let before: string[]
  const canary = `/tmp/files-escape-canary-${process.pid}`
  const escapes: string[] = []
  const p = (...parts: string[]) => join(...parts)

  beforeAll(async () => {
    rig = await startFileRig()
    const { in: inDir, out, made, qvd, outside } = rig.dirs
    await writeFile(p(inDir, 'a.txt'), 'inside a')
    await writeFile(p(outside, 'victim.txt'), 'outside victim')
    await writeFile(p(outside, 'hl-victim.txt'), 'hard-linked victim')
    await writeFile(p(outside, 'hl-victim2.txt'), 'hard-linked victim 2')
    await writeFile(p(outside, 'hl-victim3.txt'), 'hard-linked victim 3')
    await mkdir(p(outside, 'race-target'))
    await mkdir(p(outside, 'race-del-target'))
    await writeFile(p(outside, 'race-del-target', 'victim'), 'race victim')
    await symlink(p(outside, 'secret.txt'), p(inDir, 'link-to-secret'))
    await symlink(p(outside, 'victim.txt'), p(out, 'link-to-victim'))
    await symlink(outside, p(inDir, 'linkdir'))
    await symlink(outside, p(out, 'linkdir'))
    await symlink(outside, p(made, 'linkdir'))
    await symlink(outside, p(qvd, 'qlink'))
    await symlink(p(inDir, 'chain2'), p(inDir, 'chain'))
    await symlink(outside, p(inDir, 'chain2'))
    await symlink(p(inDir, 'loop'), p(inDir, 'loop'))
    await symlink('../../outside', p(inDir, 'relative-link'))
    await mkdir(p(inDir, 'tree/inner'), { recursive: true })
    await writeFile(p(inDir, 'tree/inner/f.txt'), 'tree file')
    await symlink(outside, p(inDir, 'tree/inner/out-link'))
    await symlink(p(outside, 'secret.txt'), p(inDir, 'tree/secret-link'))
    await link(p(outside, 'hl-victim.txt'), p(inDir, 'hardlink-to-outside'))
    await link(p(outside, 'hl-victim2.txt'), p(out, 'hardlink-victim'))
    await link(p(outside, 'hl-victim3.txt'), p(out, 'hardlink-victim3'))
    await writeFile(p(inDir, 'mover.txt'), 'mover')
    before = await rig.outsideSnapshot()
  })
  afterAll(async () => {
    await rig?.stop()
  })

  const inside = (path: unknown) => typeof path === 'string' && path.startsWith(`${rig.root}/`)

  /** One attempt: any error answer holds; an ok answer holds only if every real path it names is inside. */
  async function attempt(label: string, cap: string, body: Body): Promise<Json> {
    const env = (await rig.client.request(cap, body, { timeoutMs: 10_000 })) as Json
    if (env.status === 'ok') {
      const d = env.data
      const reported = [d.path, d.from, d.to, ...(d.created ?? [])].filter((x) => x !== undefined)
      if (reported.length === 0 || !reported.every(inside)) escapes.push(`${label}: ${JSON.stringify(d)}`)
    } else if (env.error.code === 'INTERNAL') escapes.push(`${label}: INTERNAL ${env.error.message}`)
    return env
  }

  const refusedWith = async (label: string, cap: string, body: Body, codes: string[]) => {
    const env = await attempt(label, cap, body)
    expect(env.status, `${label}: ${JSON.stringify(env)}`).toBe('error')
    expect(codes, `${label}: ${env.error.message}`).toContain(env.error.code)
  }

  // Each case: a label, the capability, the payload (built once the rig exists), the codes it may get
  // (undefined: it may succeed, if it stays inside).
  const cases: Array<[string, string, () => Body, string[] | undefined]> = [
    // Traversal
    [
      'copy from ../../outside',
      'file/copy',
      () => ({ fromFile: p(rig.dirs.in, '../../outside/secret.txt'), toFile: p(rig.dirs.out, 's1') }),
      ['FORBIDDEN'],
    ],
    [
      'copy to ../../outside',
      'file/copy',
      () => ({ fromFile: p(rig.dirs.in, 'a.txt'), toFile: `${rig.dirs.out}/../../outside/pwn.txt` }),
      ['FORBIDDEN'],
    ],
    [
      'delete ../../outside/secret',
      'file/delete',
      () => ({ file: `${rig.dirs.in}/../../outside/secret.txt` }),
      ['FORBIDDEN'],
    ],
    [
      'delete the file next to the sandbox',
      'file/delete',
      () => ({ file: `${rig.dirs.in}/../../top-secret.txt` }),
      ['FORBIDDEN'],
    ],
    [
      'dir/create ../../outside/new',
      'dir/create',
      () => ({ directory: `${rig.dirs.made}/../../outside/new` }),
      ['FORBIDDEN'],
    ],
    ['create-qvd ../../outside', 'dir/create-qvd', () => ({ directory: '../../outside/q' }), ['FORBIDDEN']],
    ['create-qvd ..\\..\\outside', 'dir/create-qvd', () => ({ directory: '..\\..\\outside\\q2' }), ['FORBIDDEN']],
    [
      'create-qvd sub/../../../outside',
      'dir/create-qvd',
      () => ({ directory: 'sub/../../../outside/q3' }),
      ['FORBIDDEN'],
    ],
    ['list ../../outside', 'file/list', () => ({ directory: `${rig.dirs.in}/../../outside` }), ['FORBIDDEN']],
    [
      'move from ../../outside',
      'file/move',
      () => ({ fromFile: `${rig.dirs.out}/../../outside/secret.txt`, toFile: p(rig.dirs.out, 'stolen') }),
      ['FORBIDDEN'],
    ],
    [
      'move to ../../outside',
      'file/move',
      () => ({ fromFile: p(rig.dirs.in, 'mover.txt'), toFile: `${rig.dirs.out}/../../outside/dropped` }),
      ['FORBIDDEN'],
    ],
    [
      '200 x ../',
      'file/delete',
      () => ({ file: `${rig.dirs.in}/${'../'.repeat(200)}etc/passwd` }),
      ['FORBIDDEN', 'VALIDATION_FAILED'],
    ],
    // Percent-encoded and look-alike separators
    [
      '%2e%2e/',
      'file/delete',
      () => ({ file: `${rig.dirs.in}/%2e%2e/%2e%2e/outside/secret.txt` }),
      ['VALIDATION_FAILED'],
    ],
    [
      '%2e%2e%2f',
      'dir/create',
      () => ({ directory: `${rig.dirs.made}/%2e%2e%2f%2e%2e%2foutside` }),
      ['VALIDATION_FAILED'],
    ],
    [
      '%2E%2E%5C (upper case)',
      'dir/create-qvd',
      () => ({ directory: '%2E%2E%5C%2E%2E%5Coutside' }),
      ['VALIDATION_FAILED'],
    ],
    ['overlong UTF-8 %c0%ae', 'dir/create-qvd', () => ({ directory: '%c0%ae%c0%ae/outside' }), ['VALIDATION_FAILED']],
    [
      'double-encoded %252e stays a literal name inside',
      'dir/create',
      () => ({ directory: `${rig.dirs.made}/%252e%252e/x` }),
      undefined,
    ],
    [
      'fullwidth dots stay literal names inside',
      'dir/create',
      () => ({ directory: `${rig.dirs.made}/\uff0e\uff0e/\uff0e\uff0e/outside` }),
      undefined,
    ],
    [
      'fullwidth solidus stays a literal name inside',
      'dir/create',
      () => ({ directory: `${rig.dirs.made}/..\uff0f..\uff0foutside` }),
      undefined,
    ],
    // Backslashes and mixed separators
    [
      'backslash traversal',
      'file/delete',
      () => ({ file: `${rig.dirs.in}\\..\\..\\outside\\secret.txt` }),
      ['FORBIDDEN'],
    ],
    [
      'mixed separators',
      'file/copy',
      () => ({ fromFile: `${rig.dirs.in}/..\\../outside/secret.txt`, toFile: p(rig.dirs.out, 's2') }),
      ['FORBIDDEN'],
    ],
    // Symlinks
    [
      'copy a symlink to an outside file',
      'file/copy',
      () => ({ fromFile: p(rig.dirs.in, 'link-to-secret'), toFile: p(rig.dirs.out, 's3') }),
      ['FORBIDDEN'],
    ],
    [
      'copy through a symlinked directory',
      'file/copy',
      () => ({ fromFile: p(rig.dirs.in, 'linkdir/secret.txt'), toFile: p(rig.dirs.out, 's4') }),
      ['FORBIDDEN'],
    ],
    [
      'copy into a symlinked directory',
      'file/copy',
      () => ({ fromFile: p(rig.dirs.in, 'a.txt'), toFile: p(rig.dirs.out, 'linkdir/pwn.txt') }),
      ['FORBIDDEN'],
    ],
    [
      'copy over a symlink to an outside file (the link is replaced, not followed)',
      'file/copy',
      () => ({ fromFile: p(rig.dirs.in, 'a.txt'), toFile: p(rig.dirs.out, 'link-to-victim'), overwrite: true }),
      undefined,
    ],
    [
      'delete through a symlinked directory',
      'file/delete',
      () => ({ file: p(rig.dirs.in, 'linkdir/secret.txt') }),
      ['FORBIDDEN'],
    ],
    [
      'dir/create through a symlinked directory',
      'dir/create',
      () => ({ directory: p(rig.dirs.made, 'linkdir/newsub') }),
      ['FORBIDDEN'],
    ],
    ['list a symlinked directory', 'file/list', () => ({ directory: p(rig.dirs.in, 'linkdir') }), ['FORBIDDEN']],
    ['create-qvd through a symlink in the QVD root', 'dir/create-qvd', () => ({ directory: 'qlink/x' }), ['FORBIDDEN']],
    [
      'move a symlink',
      'file/move',
      () => ({ fromFile: p(rig.dirs.in, 'link-to-secret'), toFile: p(rig.dirs.out, 's5') }),
      ['FORBIDDEN'],
    ],
    [
      'chain of symlinks',
      'file/copy',
      () => ({ fromFile: p(rig.dirs.in, 'chain/secret.txt'), toFile: p(rig.dirs.out, 's6') }),
      ['FORBIDDEN'],
    ],
    ['relative symlink', 'file/list', () => ({ directory: p(rig.dirs.in, 'relative-link') }), ['FORBIDDEN']],
    [
      'symlink loop',
      'file/copy',
      () => ({ fromFile: p(rig.dirs.in, 'loop/x'), toFile: p(rig.dirs.out, 's7') }),
      ['FORBIDDEN'],
    ],
    [
      'recursive delete of a tree holding links out (the links go, not their targets)',
      'file/delete',
      () => ({ file: p(rig.dirs.in, 'tree'), recursive: true }),
      undefined,
    ],
    // Hard links
    [
      'copy a hard link to an outside file',
      'file/copy',
      () => ({ fromFile: p(rig.dirs.in, 'hardlink-to-outside'), toFile: p(rig.dirs.out, 's8') }),
      ['FORBIDDEN'],
    ],
    [
      'copy over a hard link to an outside file (replaced, not written through)',
      'file/copy',
      () => ({ fromFile: p(rig.dirs.in, 'a.txt'), toFile: p(rig.dirs.out, 'hardlink-victim'), overwrite: true }),
      undefined,
    ],
    [
      'move over a hard link to an outside file',
      'file/move',
      () => ({ fromFile: p(rig.dirs.in, 'mover.txt'), toFile: p(rig.dirs.out, 'hardlink-victim3'), overwrite: true }),
      undefined,
    ],
    // Absolute paths
    ['delete /etc/passwd', 'file/delete', () => ({ file: '/etc/passwd' }), ['FORBIDDEN']],
    ['dir/create in /tmp', 'dir/create', () => ({ directory: canary }), ['FORBIDDEN']],
    [
      'copy /etc/hostname',
      'file/copy',
      () => ({ fromFile: '/etc/hostname', toFile: p(rig.dirs.out, 'h') }),
      ['FORBIDDEN', 'NOT_FOUND'],
    ],
    ['create-qvd /etc/../../x', 'dir/create-qvd', () => ({ directory: '/etc/../../x' }), ['FORBIDDEN']],
    [
      'create-qvd with an absolute path is joined below the root',
      'dir/create-qvd',
      () => ({ directory: `${rig.dirs.outside}/q` }),
      undefined,
    ],
    ['relative path', 'file/delete', () => ({ file: 'sb/in/a.txt' }), ['VALIDATION_FAILED']],
    // NUL and control characters
    [
      'NUL before an extension',
      'file/delete',
      () => ({ file: `${rig.dirs.in}/a.txt\u0000.qvd` }),
      ['VALIDATION_FAILED'],
    ],
    [
      'NUL then traversal',
      'dir/create',
      () => ({ directory: `${rig.dirs.made}/x\u0000/../../../outside` }),
      ['VALIDATION_FAILED'],
    ],
    ['newline in a name', 'dir/create', () => ({ directory: `${rig.dirs.made}/x\n..` }), ['VALIDATION_FAILED']],
    // Very long names and paths
    [
      'a 300-byte name',
      'dir/create',
      () => ({ directory: `${rig.dirs.made}/${'n'.repeat(300)}` }),
      ['VALIDATION_FAILED'],
    ],
    [
      'a 2000-character path',
      'dir/create',
      () => ({ directory: `${rig.dirs.made}/${'d/'.repeat(1000)}` }),
      ['VALIDATION_FAILED'],
    ],
    ['a 5000-character path', 'file/delete', () => ({ file: `/${'x'.repeat(5000)}` }), ['VALIDATION_FAILED']],
    // Windows device names and forms
    ['CON', 'dir/create', () => ({ directory: `${rig.dirs.made}/CON` }), ['VALIDATION_FAILED']],
    [
      'NUL.txt',
      'file/copy',
      () => ({ fromFile: p(rig.dirs.in, 'a.txt'), toFile: p(rig.dirs.out, 'NUL.txt') }),
      ['VALIDATION_FAILED'],
    ],
    ['com1 (lower case)', 'dir/create', () => ({ directory: `${rig.dirs.made}/com1` }), ['VALIDATION_FAILED']],
    ['LPT9.log', 'dir/create-qvd', () => ({ directory: 'LPT9.log' }), ['VALIDATION_FAILED']],
    ['trailing space', 'dir/create', () => ({ directory: `${rig.dirs.made}/aux ` }), ['VALIDATION_FAILED']],
    ['trailing dot', 'dir/create', () => ({ directory: `${rig.dirs.made}/x.` }), ['VALIDATION_FAILED']],
    [
      'alternate data stream',
      'file/copy',
      () => ({ fromFile: p(rig.dirs.in, 'a.txt'), toFile: `${rig.dirs.out}/a.txt:stream` }),
      ['VALIDATION_FAILED'],
    ],
    ['\\\\?\\ namespace', 'file/delete', () => ({ file: '\\\\?\\C:\\Data\\in\\a.txt' }), ['VALIDATION_FAILED']],
    [
      '\\\\.\\ device',
      'file/copy',
      () => ({ fromFile: '\\\\.\\PhysicalDrive0', toFile: p(rig.dirs.out, 'disk') }),
      ['VALIDATION_FAILED'],
    ],
    // Drive letters
    ['unmapped drive letter', 'file/delete', () => ({ file: 'D:\\outside\\secret.txt' }), ['VALIDATION_FAILED']],
    [
      'mapped drive letter, then ..',
      'file/delete',
      () => ({ file: 'C:\\Data\\..\\..\\outside\\secret.txt' }),
      ['FORBIDDEN'],
    ],
    [
      'mapped drive letter in other case, then ..',
      'file/list',
      () => ({ directory: 'c:\\DATA\\in\\..\\..\\..\\outside' }),
      ['FORBIDDEN'],
    ],
    ['drive-relative C:name', 'file/delete', () => ({ file: 'C:Data\\in\\a.txt' }), ['VALIDATION_FAILED']],
    // UNC shares
    [
      'mapped UNC share, then ..',
      'file/delete',
      () => ({ file: '\\\\fileserver\\share\\..\\..\\outside\\secret.txt' }),
      ['FORBIDDEN'],
    ],
    [
      'unmapped UNC admin share',
      'file/list',
      () => ({ directory: '\\\\otherserver\\c$\\Windows' }),
      ['VALIDATION_FAILED'],
    ],
    [
      'UNC with forward slashes, then ..',
      'file/copy',
      () => ({ fromFile: '//fileserver/share/../../outside/secret.txt', toFile: p(rig.dirs.out, 's9') }),
      ['FORBIDDEN'],
    ],
    // Case on a case-sensitive file system
    [
      'upper-cased approved directory',
      'file/copy',
      () => ({ fromFile: p(rig.root, 'IN', 'a.txt'), toFile: p(rig.dirs.out, 's10') }),
      ['FORBIDDEN'],
    ],
  ]

  it(`has at least 40 distinct attempts (${cases.length})`, () => {
    expect(new Set(cases.map(([label]) => label)).size).toBe(cases.length)
    expect(cases.length).toBeGreaterThanOrEqual(40)
  })

  for (const [label, cap, body, codes] of cases) {
    it(`${cap}: ${label}`, async () => {
      if (codes) await refusedWith(label, cap, body(), codes)
      else await attempt(label, cap, body())
    })
  }

  /** A child process that flips `path` between a real directory and a symlink to `target` until killed. */
  function flipper(path: string, target: string, file?: string): ChildProcess {
    const script = `
      const fs = require('node:fs')
      const [path, target, file] = process.argv.slice(1)
      for (;;) {
        try {
          fs.rmSync(path, { recursive: true, force: true })
          fs.mkdirSync(path)
          if (file) fs.writeFileSync(path + '/' + file, 'inside')
        } catch {}
        try { fs.rmSync(path, { recursive: true, force: true }); fs.symlinkSync(target, path) } catch {}
      }`
    return spawn(process.execPath, ['-e', script, path, target, ...(file ? [file] : [])], { stdio: 'ignore' })
  }

  /** `rounds` calls, eight at a time, while the child flips the file system under them. */
  async function racing(child: ChildProcess, run: (i: number) => Promise<unknown>, rounds = 120): Promise<void> {
    try {
      await new Promise((r) => setTimeout(r, 50))
      for (let i = 0; i < rounds; i += 8)
        await Promise.all(Array.from({ length: Math.min(8, rounds - i) }, (_, k) => run(i + k)))
    } finally {
      child.kill('SIGKILL')
      await new Promise((r) => child.once('exit', r))
    }
  }

  it('race: the destination directory flips to a symlink out during copies', async () => {
    const target = p(rig.dirs.outside, 'race-target')
    await racing(flipper(p(rig.dirs.out, 'race'), target), (i) =>
      attempt(`race copy ${i}`, 'file/copy', {
        fromFile: p(rig.dirs.in, 'a.txt'),
        toFile: p(rig.dirs.out, `race/f${i}`),
      }),
    )
    expect(await readdir(target)).toEqual([])
  })

  it('race: a directory on the way flips to a symlink out during dir/create', async () => {
    const target = p(rig.dirs.outside, 'race-target')
    await racing(flipper(p(rig.dirs.made, 'race'), target), (i) =>
      attempt(`race mkdir ${i}`, 'dir/create', { directory: p(rig.dirs.made, `race/d${i}/deeper`) }),
    )
    expect(await readdir(target)).toEqual([])
  })

  it('race: the parent flips to a symlink out during deletes', async () => {
    const target = p(rig.dirs.outside, 'race-del-target')
    await racing(flipper(p(rig.dirs.in, 'race-del'), target, 'victim'), (i) =>
      attempt(`race delete ${i}`, 'file/delete', { file: p(rig.dirs.in, 'race-del/victim') }),
    )
    expect(await readFile(p(target, 'victim'), 'utf8')).toBe('race victim')
  })

  it('race: the source file flips to a symlink out during copies; no copy ever holds the secret', async () => {
    const src = p(rig.dirs.in, 'swap-src')
    const script = `
      const fs = require('node:fs')
      const [src, secret] = process.argv.slice(1)
      for (;;) {
        try { fs.rmSync(src, { force: true }); fs.writeFileSync(src, 'inside') } catch {}
        try { fs.rmSync(src, { force: true }); fs.symlinkSync(secret, src) } catch {}
      }`
    const child = spawn(process.execPath, ['-e', script, src, p(rig.dirs.outside, 'secret.txt')], { stdio: 'ignore' })
    await racing(child, (i) =>
      attempt(`race source ${i}`, 'file/copy', {
        fromFile: src,
        toFile: p(rig.dirs.out, `swap-${i}`),
        overwrite: true,
      }),
    )
    // The flipper writes the file after creating it, so a copy may catch it empty; never the secret.
    for (const name of (await readdir(rig.dirs.out)).filter((n) => n.startsWith('swap-')))
      expect(['inside', '']).toContain(await readFile(p(rig.dirs.out, name), 'utf8'))
  })

  it('race: a move source parent flips to a symlink out; nothing outside is taken', async () => {
    const target = p(rig.dirs.outside, 'race-del-target')
    await racing(flipper(p(rig.dirs.in, 'race-mv'), target, 'victim'), (i) =>
      attempt(`race move ${i}`, 'file/move', {
        fromFile: p(rig.dirs.in, 'race-mv/victim'),
        toFile: p(rig.dirs.out, `mv-${i}`),
      }),
    )
    expect(await readFile(p(target, 'victim'), 'utf8')).toBe('race victim')
  })

  it('0 escapes: every answer stayed inside, and nothing outside the sandbox changed', async () => {
    expect(escapes).toEqual([])
    expect(await rig.outsideSnapshot()).toEqual(before)
    await expect(stat(canary)).rejects.toThrow()
  })
})
