import { type Static, Type } from '@sinclair/typebox'

const file = (description: string) => Type.String({ minLength: 1, description })

/** PEM files for a TLS listener; `keyPassphrase` only when the key is encrypted. */
export const tlsFilesSchema = Type.Object(
  {
    certFile: file('PEM certificate chain'),
    keyFile: file('PEM private key'),
    caFile: Type.Optional(file('PEM CA bundle that signs client certificates')),
    keyPassphrase: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
export type TlsFiles = Static<typeof tlsFilesSchema>

export const clientCertificatesSchema = Type.Union(
  [Type.Literal('none'), Type.Literal('request'), Type.Literal('require')],
  {
    default: 'none',
    description: "'request' maps a valid client certificate's CN to a user; 'require' refuses clients without one",
  },
)
export type ClientCertificates = Static<typeof clientCertificatesSchema>

/** A TLS MQTT listener (mqtts or wss): off unless enabled; certificates are required then. */
export const tlsListenerSchema = (defaultPort: number) =>
  Type.Object(
    {
      enabled: Type.Boolean({ default: false }),
      host: Type.String({ minLength: 1, default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: defaultPort }),
      tls: Type.Optional(tlsFilesSchema),
      clientCertificates: clientCertificatesSchema,
    },
    {
      additionalProperties: false,
      default: {},
      if: { properties: { enabled: { const: true } }, required: ['enabled'] },
      then: { required: ['tls'] },
    },
  )
export type TlsListenerConfig = Static<ReturnType<typeof tlsListenerSchema>>
