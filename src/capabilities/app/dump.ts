import { Type } from '@sinclair/typebox'
import { defineCapability } from '../../core/capability.js'
import { closed, guid } from '../../core/schema.js'
import { butlerErrors } from './list.js'

const dumpResult = Type.Object(
  {
    appId: Type.String(),
    properties: Type.Record(Type.String(), Type.Unknown()),
    loadScript: Type.String(),
    lineage: Type.Optional(Type.Array(Type.Unknown())),
    sheets: Type.Array(Type.Unknown()),
    stories: Type.Array(Type.Unknown()),
    masterobjects: Type.Array(Type.Unknown()),
    appprops: Type.Array(Type.Unknown()),
    dimensions: Type.Array(Type.Unknown()),
    measures: Type.Array(Type.Unknown()),
    bookmarks: Type.Array(Type.Unknown()),
    embeddedmedia: Type.Array(Type.Unknown()),
    snapshots: Type.Array(Type.Unknown()),
    fields: Type.Array(Type.Unknown()),
    dataconnections: Type.Array(Type.Unknown()),
    variables: Type.Array(Type.Unknown()),
  },
  { description: "Butler's dump keys (QLIK-PROTOCOLS §2.5.2)" },
)

export const appDump = defineCapability({
  name: 'app/dump',
  summary: "One app's full metadata: script, sheets, master items, bookmarks, variables, connections, fields",
  description: 'Opened without data on its own engine session, so it can run while the app reloads.',
  request: closed({ appId: guid('The app to dump') }),
  result: dumpResult,
  roles: ['loadscript', 'observer'],
  timeoutMs: 300_000,
  routes: ['/v4/app/:appId/dump', '/v4/senseappdump/:appId'].map((path) => ({
    method: 'GET' as const,
    path,
    butlerFlag: 'senseAppDump',
    toRequest: ({ params }: { params: Record<string, string> }) => ({ appId: params['appId'] ?? '' }),
    errorStatus: { ...butlerErrors, NOT_FOUND: 500 },
  })),
  async handle(req, { services }) {
    return (await services.sense.engine.dumpApp(req.appId)) as never
  },
})
