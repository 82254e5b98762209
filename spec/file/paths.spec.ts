import { describe, expect, it } from 'vitest'
import { butlerForm, type PathRules, toLocalPath } from '../../src/services/files/paths.js'

const base = { maxPathLength: 1024, maxNameLength: 255 }
const win: PathRules = {
  ...base,
  platform: 'win32',
  mappings: [{ from: '\\\\fileserver\\qvd', to: 'D:\\QVD' }],
}
const posix: PathRules = {
  ...base,
  platform: 'posix',
  mappings: [
    { from: 'C:\\Data', to: '/srv/data' },
    { from: '\\\\fileserver\\share', to: '/mnt/share' },
  ],
}

const refused = (path: string, rules: PathRules, message: RegExp) => {
  expect(() => toLocalPath(path, rules), path).toThrow(message)
}

describe('request paths → native paths', () => {
  it.each([
    ['C:\\Data\\in\\a.qvd', 'C:\\Data\\in\\a.qvd'],
    ['C:/Data/in/a.qvd', 'C:\\Data\\in\\a.qvd'],
    ['C:\\Data/in\\\\a.qvd', 'C:\\Data\\in\\a.qvd'],
    ['c:\\data\\x\\..\\a.qvd', 'c:\\data\\a.qvd'],
    ['\\\\server\\share\\dir\\a.qvd', '\\\\server\\share\\dir\\a.qvd'],
    ['//server/share/dir/a.qvd', '\\\\server\\share\\dir\\a.qvd'],
    ['\\\\FILESERVER\\Qvd\\sales\\a.qvd', 'D:\\QVD\\sales\\a.qvd'],
  ])('on Windows %s → %s', (input, expected) => {
    expect(toLocalPath(input, win)).toBe(expected)
  })

  it.each([
    ['/srv/data/in/a.qvd', '/srv/data/in/a.qvd'],
    ['/srv//data/./in/../in/a.qvd', '/srv/data/in/a.qvd'],
    ['C:\\Data\\in\\a.qvd', '/srv/data/in/a.qvd'],
    ['c:/DATA/in/a.qvd', '/srv/data/in/a.qvd'],
    ['\\\\FileServer\\Share\\x.qvd', '/mnt/share/x.qvd'],
    ['C:\\Data\\..\\..\\etc\\passwd', '/etc/passwd'],
    ['/srv/data/in/a%23b.qvd', '/srv/data/in/a%23b.qvd'],
  ])('elsewhere %s → %s (mapped prefixes, then .. resolved; confinement decides later)', (input, expected) => {
    expect(toLocalPath(input, posix)).toBe(expected)
  })

  it('a mapping matches whole names only: C:\\DataX is not C:\\Data', () => {
    refused('C:\\DataX\\a.qvd', posix, /Drive-letter paths need a mapping/)
  })

  it.each([
    ['', /empty/],
    ['relative/a.qvd', /absolute/],
    ['D:\\other\\a.qvd', /Drive-letter paths need a mapping/],
    ['\\\\other\\share\\a.qvd', /UNC paths need a mapping/],
    ['C:relative', /drive-relative/i],
    ['/a/b\u0000c', /NUL/],
    ['/a/b\rc', /control/],
    ['/a/%2e%2e/b', /Percent-encoded/],
    ['/a/%2F/b', /Percent-encoded/],
    ['/a/%5c/b', /Percent-encoded/],
    ['/a/%c0%ae/b', /Percent-encoded/],
    ['\\\\?\\C:\\x', /device namespace/],
    ['\\\\.\\COM1', /device namespace/],
    ['//./pipe/x', /device namespace/],
    ['/a/CON', /device name/],
    ['/a/con.txt', /device name/],
    ['/a/Com9.log', /device name/],
    ['/a/lpt1', /device name/],
    ['/a/CONIN$', /device name/],
    ['/a/x:stream', /character Windows does not allow/],
    ['/a/what?.qvd', /character Windows does not allow/],
    ['/a/*.qvd', /character Windows does not allow/],
    ['/a/name.', /dot or a space/],
    ['/a/name ', /dot or a space/],
    [`/a/${'x'.repeat(256)}`, /longer than 255 bytes/],
    [`/a/${'é'.repeat(128)}`, /longer than 255 bytes/],
    [`/${'a/'.repeat(600)}`, /longer than 1024 characters/],
  ])('refuses %j', (input, message) => {
    refused(input, posix, message)
  })

  it('on Windows a path without a drive or share is refused, and a UNC path needs a share', () => {
    refused('/srv/data/a.qvd', win, /must be absolute/)
    refused('\\\\server', win, /names a server and a share/)
  })

  it("echoes paths as Butler's upath.normalizeSafe did", () => {
    expect(butlerForm('C:\\data\\x')).toBe('C:/data/x')
    expect(butlerForm('\\\\srv\\share\\x')).toBe('//srv/share/x')
    expect(butlerForm('/a//abc//..')).toBe('/a')
  })
})
