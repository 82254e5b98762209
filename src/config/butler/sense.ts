import type { ButlerSource } from './source.js'
import type { SensebusTarget } from './target.js'

/** `UserDirectory=Internal;UserId=sa_repository` → its two parts. */
function parseQlikUser(value: string): { directory: string; id: string } | undefined {
  const parts = Object.fromEntries(
    value.split(';').map((p) => {
      const [k = '', ...v] = p.split('=')
      return [k.trim().toLowerCase(), v.join('=').trim()]
    }),
  )
  const directory = parts.userdirectory
  const id = parts.userid
  return directory && id ? { directory: directory.toUpperCase(), id } : undefined
}

function qlikUserHeader(src: ButlerSource, section: string): string | undefined {
  for (const h of src.list(`${section}.headers.static`)) {
    const header = h as { name?: unknown; value?: unknown }
    if (String(header?.name).toLowerCase() === 'x-qlik-user' && typeof header.value === 'string') return header.value
  }
  return undefined
}

/** Certificates and the QRS and Engine endpoints (`cert`, `configQRS`, `configEngine`) → `sense.*`. */
export function mapSense(src: ButlerSource, out: SensebusTarget): void {
  const certs: Array<[string, string]> = [
    ['cert.clientCert', 'sense.certs.clientCert'],
    ['cert.clientCertKey', 'sense.certs.clientKey'],
    ['cert.clientCertCA', 'sense.certs.rootCa'],
  ]
  for (const [from, to] of certs) {
    const file = src.string(from)
    if (file) out.set(to, file)
  }

  const qrsHost = src.string('configQRS.host')
  const engineHost = src.string('configEngine.host')
  const host = qrsHost ?? engineHost
  if (host) out.set('sense.host', host)
  if (qrsHost && engineHost && qrsHost !== engineHost)
    src.skip(
      'configEngine.host',
      `sensebus reaches QRS and the Engine on one host (sense.host, set from configQRS.host); the Engine host differs`,
    )
  const qrsPort = src.number('configQRS.port')
  if (qrsPort !== undefined) out.set('sense.qrs.port', qrsPort)
  const enginePort = src.number('configEngine.port')
  if (enginePort !== undefined) out.set('sense.engine.port', enginePort)
  const schema = src.string('configEngine.engineVersion')
  if (schema) out.set('sense.engine.schemaVersion', schema)

  const user = qlikUserHeader(src, 'configQRS') ?? qlikUserHeader(src, 'configEngine')
  const parsed = user ? parseQlikUser(user) : undefined
  if (parsed) {
    out.set('sense.user.directory', parsed.directory)
    out.set('sense.user.id', parsed.id)
  } else if (user) src.skip('configQRS.headers.static', 'the X-Qlik-User header is not UserDirectory=…;UserId=…')
  const otherHeaders = ['configQRS', 'configEngine'].flatMap((s) =>
    src
      .list(`${s}.headers.static`)
      .filter((h) => String((h as { name?: unknown })?.name).toLowerCase() !== 'x-qlik-user'),
  )
  if (otherHeaders.length > 0)
    src.skip('configQRS.headers.static', 'headers other than X-Qlik-User are not sent by sensebus')

  // Both must allow self-signed certificates for sensebus to; Butler's template turns both off.
  const reject = [src.flag('configQRS.rejectUnauthorized'), src.flag('configEngine.rejectUnauthorized')]
  if (reject.includes(false)) {
    out.set('sense.rejectUnauthorized', false)
    src.note(
      'configQRS.rejectUnauthorized',
      'carried over as sense.rejectUnauthorized: false; ' +
        "better: keep it true and give the QMC's root.pem (sense.certs.rootCa)",
    )
  }
  for (const s of ['configQRS', 'configEngine'])
    if (src.flag(`${s}.useSSL`) === false) src.skip(`${s}.useSSL`, 'sensebus talks to Sense over HTTPS/WSS only')
  const auth = src.string('configQRS.authentication')
  if (auth && auth !== 'certificates')
    src.skip(
      'configQRS.authentication',
      `'${auth}' is not offered; sensebus uses certificates, or a header virtual proxy (sense.virtualProxy)`,
    )
}
