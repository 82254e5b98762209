import forge from 'node-forge'

/** PEM strings of a QMC-style export plus the server side, made fresh per test file. */
export interface TestCerts {
  ca: string
  server: { cert: string; key: string }
  client: { cert: string; key: string }
}

/**
 * A CA, a server certificate for localhost/127.0.0.1 and a client certificate, signed by that CA.
 * 1024-bit keys keep generation fast; these certificates never leave the test process.
 */
export function makeTestCerts(): TestCerts {
  const caKeys = forge.pki.rsa.generateKeyPair(1024)
  const caCert = certificate(caKeys.publicKey, 'Test Sim CA', undefined, caKeys.privateKey, [
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true },
  ])
  const issuer = { cert: caCert, key: caKeys.privateKey }
  return {
    ca: forge.pki.certificateToPem(caCert),
    server: leaf('localhost', issuer, true),
    client: leaf('QlikClient', issuer, false),
  }
}

function leaf(
  cn: string,
  issuer: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey },
  server: boolean,
): { cert: string; key: string } {
  const keys = forge.pki.rsa.generateKeyPair(1024)
  const extensions = server
    ? [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
        { name: 'extKeyUsage', serverAuth: true },
      ]
    : [{ name: 'extKeyUsage', clientAuth: true }]
  const cert = certificate(keys.publicKey, cn, issuer.cert, issuer.key, extensions)
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) }
}

function certificate(
  publicKey: forge.pki.rsa.PublicKey,
  cn: string,
  issuer: forge.pki.Certificate | undefined,
  signer: forge.pki.rsa.PrivateKey,
  extensions: object[],
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate()
  cert.publicKey = publicKey
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(8))}`
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000)
  const subject = [{ name: 'commonName', value: cn }]
  cert.setSubject(subject)
  cert.setIssuer(issuer?.subject.attributes ?? subject)
  cert.setExtensions(extensions)
  cert.sign(signer, forge.md.sha256.create())
  return cert
}
