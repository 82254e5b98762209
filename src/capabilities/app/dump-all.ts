import { mkdir } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { capabilityWith } from '../../core/capability.js'
import { closed, guid } from '../../core/schema.js'
import type { Collection } from '../../core/store.js'
import type { AppConfig } from './config.js'
import { carryOver, prune, snapshotName, writeJson } from './snapshot.js'

/** What the store remembers of each app's last dump: enough to skip it when it has not changed. */
export interface DumpMark {
  modifiedDate: string
  file: string
  sha256: string
  bytes: number
}

export interface AppState {
  dataDir: string
  marks: Collection<DumpMark>
}

const entry = Type.Object({
  id: Type.String(),
  name: Type.String(),
  modifiedDate: Type.Optional(Type.String()),
  file: Type.String(),
  sha256: Type.String(),
  bytes: Type.Integer(),
  status: Type.Union([Type.Literal('dumped'), Type.Literal('unchanged')]),
})

const result = closed({
  snapshot: Type.String(),
  dir: Type.String(),
  apps: Type.Array(entry),
  failed: Type.Array(
    Type.Object({ id: Type.String(), name: Type.String(), code: Type.String(), message: Type.String() }),
  ),
  pruned: Type.Array(Type.String()),
})

export const appDumpAll = capabilityWith<AppState, AppConfig>()({
  name: 'app/dump-all',
  summary: 'A point-in-time backup: every app (or a filtered set) dumped into a dated folder with a manifest',
  description:
    'One JSON file per app and manifest.json with sha256 checksums. Apps whose modified date is unchanged ' +
    'since the previous snapshot are carried over (hard-linked), not dumped again. Keeps capabilities.app.dumpKeep ' +
    'snapshots.',
  request: closed({
    name: Type.Optional(Type.String({ minLength: 1 })),
    stream: Type.Optional(Type.String({ minLength: 1 })),
    tag: Type.Optional(Type.String({ minLength: 1 })),
    appIds: Type.Optional(Type.Array(guid(), { maxItems: 10_000 })),
  }),
  result,
  roles: [],
  timeoutMs: 6 * 3_600_000,
  job: {},
  async handle(req, ctx) {
    const { services, config, state, signal } = ctx
    const root = isAbsolute(config.dumpDir) ? config.dumpDir : join(state.dataDir, config.dumpDir)
    const started = new Date()
    const snapshot = snapshotName(started)
    const dir = join(root, snapshot)
    await mkdir(dir, { recursive: true })
    const wanted = req.appIds === undefined ? undefined : new Set(req.appIds.map((id) => id.toLowerCase()))
    const apps = (
      await services.sense.qrs.findApps({
        ...(req.name === undefined ? {} : { name: req.name }),
        ...(req.stream === undefined ? {} : { streamName: req.stream }),
        ...(req.tag === undefined ? {} : { tag: req.tag }),
      })
    ).filter((a) => wanted === undefined || wanted.has(a.id.toLowerCase()))

    const done: (typeof result.static)['apps'] = []
    const failed: (typeof result.static)['failed'] = []
    const queue = [...apps]
    const worker = async () => {
      for (let app = queue.shift(); app !== undefined; app = queue.shift()) {
        signal.throwIfAborted()
        const file = join(dir, `${app.id}.json`)
        const base = { id: app.id, name: app.name, ...(app.modifiedDate ? { modifiedDate: app.modifiedDate } : {}) }
        try {
          const mark = (await state.marks.get(app.id))?.value
          if (
            mark &&
            app.modifiedDate &&
            mark.modifiedDate === app.modifiedDate &&
            (await carryOver(mark.file, file))
          ) {
            done.push({ ...base, file: `${app.id}.json`, sha256: mark.sha256, bytes: mark.bytes, status: 'unchanged' })
            await state.marks.set(app.id, { ...mark, file })
          } else {
            const dump = await services.sense.engine.dumpApp(app.id)
            const written = await writeJson(file, dump)
            done.push({ ...base, file: `${app.id}.json`, ...written, status: 'dumped' })
            if (app.modifiedDate) await state.marks.set(app.id, { modifiedDate: app.modifiedDate, file, ...written })
          }
        } catch (err) {
          if (signal.aborted) throw signal.reason
          const e = err as { code?: string; message?: string }
          failed.push({ id: app.id, name: app.name, code: e.code ?? 'INTERNAL', message: e.message ?? String(err) })
        }
        ctx.progress({ snapshot, done: done.length + failed.length, total: apps.length, appId: app.id })
      }
    }
    await Promise.all(Array.from({ length: Math.min(config.dumpConcurrency, Math.max(1, apps.length)) }, worker))
    done.sort((a, b) => a.id.localeCompare(b.id))
    await writeJson(join(dir, 'manifest.json'), {
      snapshot,
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      apps: done,
      failed,
    })
    const pruned = await prune(root, config.dumpKeep)
    return { snapshot, dir, apps: done, failed, pruned }
  },
})
