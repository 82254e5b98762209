import { Type } from '@sinclair/typebox'
import { defineCapability, defineModule } from '../../core/capability.js'
import { closed, section } from '../../core/schema.js'
import { base16ToBase62, base62ToBase16 } from './base62.js'

const empty = closed({})
const names = Type.Array(Type.String())

const ping = defineCapability({
  name: 'util/ping',
  summary: 'Liveness check; answers as Butler does so existing scripts keep working',
  request: empty,
  result: closed({ response: Type.String(), butlerVersion: Type.String(), version: Type.String() }),
  roles: ['loadscript'],
  example: { request: {}, result: { response: 'Butler reporting for duty', butlerVersion: '0.1.0', version: '0.1.0' } },
  routes: [
    {
      method: 'GET',
      path: '/v4/butlerping',
      butlerFlag: 'butlerping',
      toRequest: () => ({}),
      toBody: (d) => ({ response: d.response, butlerVersion: d.butlerVersion }),
      response: Type.Object({ response: Type.String(), butlerVersion: Type.String() }),
    },
  ],
  async handle(_req, { app }) {
    return { response: 'Butler reporting for duty', butlerVersion: app.version, version: app.version }
  },
})

const base62 = Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9a-zA-Z]+$' })
const base16 = Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9a-fA-F]+$' })

const toBase16 = defineCapability({
  name: 'util/base62-to-base16',
  summary: 'Convert a base62 id (alphabet 0-9a-zA-Z) to base16',
  request: closed({ base62 }),
  result: closed({ base62, base16 }),
  roles: ['loadscript'],
  example: {
    request: { base62: '6DMW88LpSok9Z7P7hUK0wv7bF' },
    result: { base62: '6DMW88LpSok9Z7P7hUK0wv7bF', base16: '3199af08bfeeaf5d420f27ed9c01e74370077' },
  },
  routes: [
    {
      method: 'GET',
      path: '/v4/base62tobase16',
      butlerFlag: 'base62ToBase16',
      query: ['base62'],
      toRequest: ({ query }) => ({ base62: query.base62 as string }),
    },
  ],
  async handle(req) {
    return { base62: req.base62, base16: base62ToBase16(req.base62) }
  },
})

const toBase62 = defineCapability({
  name: 'util/base16-to-base62',
  summary: 'Convert a base16 id to base62 (alphabet 0-9a-zA-Z)',
  request: closed({ base16 }),
  result: closed({ base16, base62 }),
  roles: ['loadscript'],
  example: { request: { base16: 'ff' }, result: { base16: 'ff', base62: '47' } },
  routes: [
    {
      method: 'GET',
      path: '/v4/base16tobase62',
      butlerFlag: 'base16ToBase62',
      query: ['base16'],
      toRequest: ({ query }) => ({ base16: query.base16 as string }),
    },
  ],
  async handle(req) {
    return { base16: req.base16, base62: base16ToBase62(req.base16) }
  },
})

const capabilities = defineCapability({
  name: 'util/capabilities',
  summary: 'The enabled capabilities, and the Butler endpoint flags they serve',
  request: empty,
  result: closed({ capabilities: names, butlerEndpoints: names }),
  roles: ['loadscript'],
  example: {
    request: {},
    result: { capabilities: ['kv/get', 'util/ping'], butlerEndpoints: ['butlerping', 'keyValueStore'] },
  },
  routes: [
    {
      method: 'GET',
      path: '/v4/configfile/endpointsenabled',
      butlerFlag: 'apiListEnabledEndpoints',
      toRequest: () => ({}),
      toBody: (d) => d.butlerEndpoints,
      response: Type.Array(Type.String(), { description: "Butler's enable-flag names of the enabled routes" }),
    },
  ],
  async handle(_req, { app }) {
    return { capabilities: app.capabilities(), butlerEndpoints: app.butlerFlags() }
  },
})

export default defineModule({
  area: 'util',
  summary: 'Ping, id conversions and the list of enabled capabilities',
  configSchema: section({}),
  capabilities: [ping, toBase16, toBase62, capabilities],
})
