import { isIP } from 'node:net'
import forge from 'node-forge'

/**
 * Certificate generation with node-forge (QLIK-PROTOCOLS §1.2: QRS and the engine use mutual TLS with
 * the certificates the QMC exports). node-forge hands RSA key generation to node's crypto when it is
 * available, so 2048-bit keys take milliseconds, not seconds.
 */

export interface PemPair {
  cert: string
  key: string
}

const { pki, md } = forge

/**
 * A positive 16-byte serial in minimal DER: the first byte is 0x01–0x7f, so the integer needs no sign
 * byte and has no leading zero. The old form ('0' + 30 random hex digits, an odd length) now and then came
 * out as 0x00 followed by a byte below 0x80 (2 of 300 certificates in a trial), which OpenSSL refuses
 * ("illegal padding"): the simulator failed to start.
 */
export function certificateSerial(): string {
  const bytes = Buffer.from(forge.random.getBytesSync(16), 'binary')
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01
  return bytes.toString('hex')
}

function validity(cert: forge.pki.Certificate, years: number): void {
  const from = new Date(Date.now() - 24 * 3600 * 1000)
  const to = new Date(from)
  to.setFullYear(to.getFullYear() + years)
  cert.validity.notBefore = from
  cert.validity.notAfter = to
}

function keyPair(): forge.pki.rsa.KeyPair {
  return pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 })
}

/** Self-signed CA, like the `<host>-CA` root a QSEoW install creates. */
export function createCa(commonName: string): PemPair {
  const keys = keyPair()
  const cert = pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = certificateSerial()
  validity(cert, 10)
  const subject = [{ name: 'commonName', value: commonName }]
  cert.setSubject(subject)
  cert.setIssuer(subject)
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ])
  cert.sign(keys.privateKey, md.sha256.create())
  return { cert: pki.certificateToPem(cert), key: pki.privateKeyToPem(keys.privateKey) }
}

export interface LeafOptions {
  commonName: string
  /** Server certificates: DNS names and IP addresses for the SAN. */
  altNames?: string[]
  usage: 'server' | 'client'
}

/** A leaf certificate signed by the CA. */
export function createLeaf(ca: PemPair, opts: LeafOptions): PemPair {
  const caCert = pki.certificateFromPem(ca.cert)
  const caKey = pki.privateKeyFromPem(ca.key)
  const keys = keyPair()
  const cert = pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = certificateSerial()
  validity(cert, 5)
  cert.setSubject([{ name: 'commonName', value: opts.commonName }])
  cert.setIssuer(caCert.subject.attributes)
  const extensions: unknown[] = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: opts.usage === 'server', clientAuth: true },
  ]
  if (opts.altNames?.length) {
    extensions.push({
      name: 'subjectAltName',
      altNames: opts.altNames.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    })
  }
  cert.setExtensions(extensions as never[])
  cert.sign(caKey, md.sha256.create())
  return { cert: pki.certificateToPem(cert), key: pki.privateKeyToPem(keys.privateKey) }
}

/** The SAN entries of a PEM certificate (DNS names and IPs), for the reuse check. */
export function altNamesOf(certPem: string): string[] {
  const cert = pki.certificateFromPem(certPem)
  const ext = cert.getExtension('subjectAltName') as {
    altNames?: Array<{ type: number; value?: string; ip?: string }>
  } | null
  return (ext?.altNames ?? []).map((n) => n.ip ?? n.value ?? '').filter(Boolean)
}

/** True when `certPem` was signed by `caPem`'s key and is still valid for a week. */
export function isUsable(certPem: string, caPem: string): boolean {
  try {
    const cert = pki.certificateFromPem(certPem)
    const ca = pki.certificateFromPem(caPem)
    const weekAhead = new Date(Date.now() + 7 * 24 * 3600 * 1000)
    return ca.verify(cert) && cert.validity.notAfter > weekAhead
  } catch {
    return false
  }
}
