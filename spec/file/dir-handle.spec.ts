import { mkdir, mkdtemp, readFile, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type DirHandle, holdDir, holdDirByPath, PINNED } from '../../src/services/files/dir-handle.js'

describe.each([
  ['held by descriptor (Linux)', holdDir, PINNED],
  ['held by path (Windows, macOS)', holdDirByPath, true],
] as const)('a directory %s', (_label, hold, available) => {
  let base: string
  beforeEach(async () => {
    base = await realpath(await mkdtemp(join(tmpdir(), 'files-dirhandle-')))
    await mkdir(join(base, 'held'))
    await mkdir(join(base, 'elsewhere'))
  })
  afterEach(async () => {
    await rm(base, { recursive: true, force: true })
  })

  it.runIf(available)('names entries inside it, and verify() passes while it stays where it was', async () => {
    const h: DirHandle = await hold(join(base, 'held'))
    try {
      await writeFile(h.at('f.txt'), 'in held')
      await h.verify()
      expect(await readFile(join(base, 'held', 'f.txt'), 'utf8')).toBe('in held')
    } finally {
      await h.close()
    }
  })

  it.runIf(available)('verify() is FORBIDDEN once the directory was swapped for a symlink', async () => {
    const h = await hold(join(base, 'held'))
    try {
      await rename(join(base, 'held'), join(base, 'moved'))
      await symlink(join(base, 'elsewhere'), join(base, 'held'))
      await expect(h.verify()).rejects.toMatchObject({ code: 'FORBIDDEN' })
    } finally {
      await h.close()
    }
  })

  it.runIf(available)('a symlink is never held', async () => {
    await symlink(join(base, 'elsewhere'), join(base, 'link'))
    await expect(hold(join(base, 'link'))).rejects.toMatchObject({ code: 'FORBIDDEN' })
  })
})

describe.runIf(PINNED)('a directory held by descriptor', () => {
  it('keeps naming the same directory after a swap, so nothing lands where the link points', async () => {
    const base = await realpath(await mkdtemp(join(tmpdir(), 'files-dirhandle-')))
    try {
      await mkdir(join(base, 'held'))
      await mkdir(join(base, 'elsewhere'))
      const h = await holdDir(join(base, 'held'))
      await rename(join(base, 'held'), join(base, 'moved'))
      await symlink(join(base, 'elsewhere'), join(base, 'held'))
      await writeFile(h.at('late.txt'), 'late')
      await h.close()
      expect(await readFile(join(base, 'moved', 'late.txt'), 'utf8')).toBe('late')
      await expect(readFile(join(base, 'elsewhere', 'late.txt'))).rejects.toThrow()
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })
})
