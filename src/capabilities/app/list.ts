import { Type } from '@sinclair/typebox'
import { defineCapability } from '../../core/capability.js'
import { closed } from '../../core/schema.js'

const appSummary = closed({
  id: Type.String(),
  name: Type.String(),
  stream: Type.Union([Type.String(), Type.Null()]),
  tags: Type.Array(Type.String()),
  modifiedDate: Type.Optional(Type.String()),
  lastReloadTime: Type.Optional(Type.String()),
})

const butlerErrors = { SENSE_UNREACHABLE: 500, SENSE_AUTH: 500, SENSE_ERROR: 500, TIMEOUT: 500 } as const

export const appList = defineCapability({
  name: 'app/list',
  summary: 'The apps of the Sense site (QRS), optionally by name, stream or tag',
  request: closed({
    name: Type.Optional(Type.String({ minLength: 1 })),
    stream: Type.Optional(Type.String({ minLength: 1, description: 'Stream name' })),
    tag: Type.Optional(Type.String({ minLength: 1 })),
  }),
  result: closed({ apps: Type.Array(appSummary) }),
  roles: ['loadscript', 'observer'],
  timeoutMs: 60_000,
  example: {
    request: { stream: 'Sales' },
    result: {
      apps: [{ id: '8e7d6c5b-4a39-4281-b0c1-d2e3f4a5b6c7', name: 'Sales dashboard', stream: 'Sales', tags: ['Sales'] }],
    },
  },
  routes: ['/v4/apps/list', '/v4/senselistapps'].map((path) => ({
    method: 'GET' as const,
    path,
    butlerFlag: 'senseListApps',
    toRequest: () => ({}),
    // Butler answers what GetDocList gives: id and name only.
    toBody: (d: { apps: { id: string; name: string }[] }) => d.apps.map((a) => ({ id: a.id, name: a.name })),
    response: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
    errorStatus: butlerErrors,
  })),
  async handle(req, { services }) {
    const apps = await services.sense.qrs.findApps({
      ...(req.name === undefined ? {} : { name: req.name }),
      ...(req.stream === undefined ? {} : { streamName: req.stream }),
      ...(req.tag === undefined ? {} : { tag: req.tag }),
    })
    return {
      apps: apps.map((a) => ({
        id: a.id,
        name: a.name,
        stream: a.stream?.name ?? null,
        tags: (a.tags ?? []).map((t) => t.name),
        ...(a.modifiedDate === undefined ? {} : { modifiedDate: a.modifiedDate }),
        ...(a.lastReloadTime === undefined ? {} : { lastReloadTime: a.lastReloadTime }),
      })),
    }
  },
})

export { butlerErrors }
