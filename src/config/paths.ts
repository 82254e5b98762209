/**
 * Config paths as people write them and as every config message shows them:
 * `security.users[1].roles`, `capabilities.kv.maxKeys`, `security.roles["my.role"]`.
 */
export function configPath(segments: readonly (string | number)[]): string {
  let out = ''
  for (const s of segments) {
    if (typeof s === 'number' || /^\d+$/.test(s)) out += `[${s}]`
    else if (/^[A-Za-z_$][\w$-]*$/.test(s)) out += out === '' ? s : `.${s}`
    else out += `[${JSON.stringify(s)}]`
  }
  return out === '' ? '(root)' : out
}

/** An Ajv instance path (JSON Pointer, `/security/users/1/roles`) in config style. */
export function fromPointer(pointer: string): string {
  if (pointer === '' || pointer === '/') return configPath([])
  const segments = pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
  return configPath(segments)
}

/** Whether `path` lies at or under `prefix` (`http.port` under `http`, `users[1]` under `users`). */
export function isAtOrUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`)
}
