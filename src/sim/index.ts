import { resolve } from 'node:path'
import { silentLogger, type Logger } from '../log.js'
import { ensureCertificates, type SimCertificates } from './certs/cert-dir.js'
import { writeSimConfig } from './config-file.js'
import type { SimContext } from './context.js'
import { startControlApi } from './control/server.js'
import { createEngineBackend } from './engine-adapter/backend.js'
import { startEngineFace } from './engine/server.js'
import { defaultFaults, type SimFaults } from './faults.js'
import { defaultFixturePath } from './fixture-path.js'
import { loadFixtureFile } from './model/load-fixture.js'
import { SimModel } from './model/store.js'
import type { TaskBehaviour } from './model/types.js'
import type { RunningServer } from './net/listen.js'
import { startQrsFace } from './qrs/server.js'
import { startVirtualProxy, type VirtualProxyOptions } from './qrs/virtual-proxy.js'
import { CallRecorder } from './recorder.js'
import { DEFAULT_TIMING, TaskExecutor, type ExecutorTiming } from './tasks/executor.js'
import { DatagramSender, type UdpTarget } from './udp/sender.js'
import { resolveUnconfirmed, type UnconfirmedOverrides } from './unconfirmed.js'

export { SimModel } from './model/store.js'
export type { SimFaults } from './faults.js'
export type { ExecutorTiming } from './tasks/executor.js'
export type { UdpTarget } from './udp/sender.js'
export type { TaskBehaviour } from './model/types.js'
export type { VirtualProxyOptions } from './qrs/virtual-proxy.js'
export { renderScriptRun, runScript } from './script/script-runner.js'
export type { ScriptRunRequest, ScriptRunResult, ReloadMode } from './script/script-runner.js'

export interface SimulatorOptions {
  /** Fixture file (YAML or JSON); default: the bundled demo site. */
  fixture?: string
  /** Interface every Qlik face binds to (default 127.0.0.1). */
  host?: string
  /** 0 picks a free port. Defaults 4242 / 4747 / 8099. */
  qrsPort?: number
  enginePort?: number
  controlPort?: number
  /** Where log-appender datagrams go (default 127.0.0.1:9998). */
  udpTarget?: UdpTarget
  /** QMC-style certificate export folder; created on first start, reused afterwards. */
  certDir: string
  log?: Logger
  /** Initial fault switches (also what `POST /__sim/reset` restores). */
  faults?: Partial<SimFaults>
  /** State-machine pauses (§4.5); tests set them to 0. */
  timing?: Partial<ExecutorTiming>
  /** Overrides for the details the spec marks "(unconfirmed)" (src/sim/unconfirmed.ts). */
  unconfirmed?: UnconfirmedOverrides
  /** Duration of engine-side reloads (DoReload); default: the app's reload-task duration. */
  engineReloadMs?: number
  /** Optional QPS-style listener with header authentication (§1.4). */
  virtualProxy?: VirtualProxyOptions
  /**
   * Behaviour overrides applied over the fixture (and again after every reset), by task id or name;
   * the key `*` applies to every task, e.g. `{ '*': { durationMs: 50 } }` for fast tests.
   */
  behaviours?: Record<string, Partial<TaskBehaviour>>
}

export interface SimSettings {
  host: string
  qrsPort: number
  enginePort: number
  controlPort: number
  /** Base URL of the control API, e.g. `http://127.0.0.1:8099/__sim`. */
  controlUrl: string
  /** Virtual-proxy listener port and prefix, when enabled. */
  virtualProxy: { port: number; prefix: string; header: string } | null
  udpTarget: UdpTarget
  certDir: string
  certFiles: { client: string; clientKey: string; root: string; server: string; serverKey: string }
  /** The generated sensebus config (`<certDir>/sensebus.sim.yaml`). */
  configFile: string
  fixture: string
}

export interface RunningSimulator {
  settings: SimSettings
  model: SimModel
  faults: SimFaults
  executor: TaskExecutor
  recorder: CallRecorder
  sender: DatagramSender
  certificates: SimCertificates
  /** Reloads the fixture, restores faults, forgets executions and recorded calls (§4.7 reset). */
  reset(): Promise<void>
  close(): Promise<void>
}

function applyBehaviours(model: SimModel, overrides: SimulatorOptions['behaviours']): void {
  for (const [key, patch] of Object.entries(overrides ?? {})) {
    const tasks =
      key === '*'
        ? model.tasks.values()
        : [model.tasks.get(key) ?? model.findTaskByName(key)].filter((t) => t !== undefined)
    if (tasks.length === 0) throw new Error(`behaviours: no task '${key}' in the fixture`)
    for (const task of tasks) task.behaviour = { ...task.behaviour, ...patch }
  }
}

/** A host clients can dial: a wildcard bind address is reached through loopback. */
function dialHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host
}

/**
 * Starts the Qlik Sense simulator (QLIK-PROTOCOLS §4): one model, the QRS face (HTTPS + client
 * certificate), the Engine face (WSS), the task state machine with its UDP datagrams and the control
 * API, then writes `<certDir>/sensebus.sim.yaml`. Resolves once every face listens.
 */
export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const log = (opts.log ?? silentLogger()).child({ area: 'sim' })
  const host = opts.host ?? '127.0.0.1'
  const certDir = resolve(opts.certDir)
  const fixture = resolve(opts.fixture ?? defaultFixturePath())
  const udpTarget = opts.udpTarget ?? { host: '127.0.0.1', port: 9998 }
  const model = new SimModel(await loadFixtureFile(fixture))
  applyBehaviours(model, opts.behaviours)
  const faults = defaultFaults(opts.faults)
  const texts = resolveUnconfirmed(opts.unconfirmed)
  const recorder = new CallRecorder()
  const sender = new DatagramSender(udpTarget, faults, log.child({ area: 'sim-udp' }))
  const executor = new TaskExecutor({
    model,
    texts,
    faults,
    sender,
    log,
    timing: { ...DEFAULT_TIMING, ...opts.timing },
  })
  const ctx: SimContext = { model, texts, faults, executor, recorder, sender, log }
  const certificates = await ensureCertificates(certDir, dialHost(host), log)

  const servers: RunningServer[] = []
  const closeAll = async (): Promise<void> => {
    await executor.cancelAll()
    await Promise.all(servers.map((s) => s.close()))
    await sender.close()
  }
  try {
    const qrs = await startQrsFace(ctx, certificates, host, opts.qrsPort ?? 4242)
    servers.push(qrs)
    const engine = await startEngineFace({
      backend: createEngineBackend(ctx, { reloadMs: opts.engineReloadMs }),
      host,
      port: opts.enginePort ?? 4747,
      tls: { key: certificates.server.key, cert: certificates.server.cert, ca: certificates.ca },
      requireClientCert: true,
      log,
    })
    servers.push(engine)
    const proxy = opts.virtualProxy ? await startVirtualProxy(ctx, certificates, host, opts.virtualProxy) : null
    if (proxy) servers.push(proxy)

    const reset = async (): Promise<void> => {
      await executor.cancelAll()
      model.replaceContents(await loadFixtureFile(fixture))
      applyBehaviours(model, opts.behaviours)
      Object.assign(faults, defaultFaults(opts.faults))
      recorder.clear()
      sender.sent.splice(0)
    }
    let settings: SimSettings | undefined
    // The control API is ours, not Qlik's: always loopback, whatever `host` is (§4.7).
    const control = await startControlApi(
      { ctx, reset, settings: () => settings },
      '127.0.0.1',
      opts.controlPort ?? 8099,
    )
    servers.push(control)

    const configFile = await writeSimConfig({
      host: dialHost(host),
      qrsPort: qrs.port,
      enginePort: engine.port,
      certDir,
    })
    settings = {
      host: dialHost(host),
      qrsPort: qrs.port,
      enginePort: engine.port,
      controlPort: control.port,
      controlUrl: `http://127.0.0.1:${control.port}/__sim`,
      virtualProxy:
        proxy && opts.virtualProxy
          ? { port: proxy.port, prefix: opts.virtualProxy.prefix, header: opts.virtualProxy.header }
          : null,
      udpTarget,
      certDir,
      certFiles: {
        client: certificates.paths.client,
        clientKey: certificates.paths.clientKey,
        root: certificates.paths.root,
        server: certificates.paths.server,
        serverKey: certificates.paths.serverKey,
      },
      configFile,
      fixture,
    }
    log.info({ settings }, 'simulator listening')
    let closing: Promise<void> | undefined
    return {
      settings,
      model,
      faults,
      executor,
      recorder,
      sender,
      certificates,
      reset,
      close: () => (closing ??= closeAll()),
    }
  } catch (err) {
    await closeAll()
    throw err
  }
}
