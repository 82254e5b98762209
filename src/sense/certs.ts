import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { CapabilityError } from '../core/errors.js'
import type { SenseCertsConfig } from './config.js'

/** File names of the QMC "Export certificates" output in PEM format (QLIK-PROTOCOLS §1.2). */
export const QMC_CERT_FILES = {
  clientCert: 'client.pem',
  clientKey: 'client_key.pem',
  rootCa: 'root.pem',
} as const

export interface SenseCertificates {
  cert: Buffer
  key: Buffer
  ca: Buffer
  passphrase?: string
}

export interface SenseCertificatePaths {
  clientCert: string
  clientKey: string
  rootCa: string
}

type CertRole = keyof SenseCertificatePaths

const ROLE_LABEL: Record<CertRole, string> = {
  clientCert: 'client certificate',
  clientKey: 'client key',
  rootCa: 'root CA certificate',
}

/** Explicit paths win over `dir`; relative paths resolve against `baseDir` (the config file's folder). */
export function senseCertificatePaths(certs: SenseCertsConfig, baseDir = process.cwd()): SenseCertificatePaths {
  const dir = resolve(baseDir, certs.dir)
  const pick = (role: CertRole): string => {
    const explicit = certs[role]
    return explicit === undefined ? resolve(dir, QMC_CERT_FILES[role]) : resolve(baseDir, explicit)
  }
  return { clientCert: pick('clientCert'), clientKey: pick('clientKey'), rootCa: pick('rootCa') }
}

/**
 * Reads the PEM files. A failure names the file and its role but never its contents, so the error
 * can go straight into a log or a response envelope.
 */
export function loadSenseCertificates(certs: SenseCertsConfig, baseDir?: string): SenseCertificates {
  const paths = senseCertificatePaths(certs, baseDir)
  const loaded: SenseCertificates = {
    cert: readPem('clientCert', paths.clientCert),
    key: readPem('clientKey', paths.clientKey),
    ca: readPem('rootCa', paths.rootCa),
  }
  if (certs.passphrase !== undefined) loaded.passphrase = certs.passphrase
  return loaded
}

/** For the virtual-proxy variant: no client certificate, but a root CA when one is there to trust. */
export function loadSenseRootCa(certs: SenseCertsConfig, baseDir?: string): Buffer | undefined {
  const path = senseCertificatePaths(certs, baseDir).rootCa
  // An explicitly configured file must exist; the default one is optional here.
  if (certs.rootCa === undefined && !existsSync(path)) return undefined
  return readPem('rootCa', path)
}

function readPem(role: CertRole, path: string): Buffer {
  let content: Buffer
  try {
    content = readFileSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'missing' : code === 'EACCES' ? 'not readable' : 'unreadable'
    throw new CapabilityError('SENSE_AUTH', `Sense ${ROLE_LABEL[role]} file ${reason}: ${path}`, {
      details: { role, path, reason },
      cause: err,
    })
  }
  if (!content.toString('latin1').includes('-----BEGIN ')) {
    throw new CapabilityError('SENSE_AUTH', `Sense ${ROLE_LABEL[role]} file is not PEM: ${path}`, {
      details: { role, path, reason: 'not PEM' },
    })
  }
  return content
}
