import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'
import { Command } from 'commander'
import type { ReportLine } from '../../config/butler/index.js'
import { CliError, EXIT } from '../exit.js'

interface Flags {
  schedules?: string
  out: string
  force?: boolean
}

const lines = (title: string, report: ReportLine[]) =>
  report.length === 0 ? [] : [title, ...report.map((r) => `  - ${r.setting}: ${r.reason}`)]

/** `sensebus.yaml` → `sensebus.schedules.json`, next to it. */
const schedulesFileFor = (out: string) => join(dirname(out), `${basename(out, extname(out))}.schedules.json`)

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new CliError(
      `Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      EXIT.ERROR,
    )
  }
}

function refuseOverwrite(file: string, force: boolean | undefined): void {
  if (!force && existsSync(file))
    throw new CliError(`${file} exists already: choose another --out, or add --force to replace it`, EXIT.ERROR)
}

/**
 * The written file's header: where it came from and what did not come along. Setting paths only,
 * never values, so the comments hold no secret that the settings below do not already hold.
 */
function header(source: string, skipped: ReportLine[]): string {
  const out = [
    `# sensebus config imported from Butler's ${basename(source)} by \`sensebus config import-butler\`.`,
    "# Only settings that differ from sensebus' defaults are listed; `sensebus config print --config <this file>`",
    '# shows them all. Check it with `sensebus config check <this file>`.',
  ]
  if (skipped.length > 0) out.push('#', '# Not carried over:', ...skipped.map((s) => `#   ${s.setting}: ${s.reason}`))
  return `${out.join('\n')}\n`
}

export function importButlerCommand(): Command {
  return new Command('import-butler')
    .description(
      "Write a sensebus config equivalent to Butler's production.yaml and list every Butler setting that could " +
        'not be carried over, with why. Secrets (SMTP password, webhook URLs) go into the written file only',
    )
    .argument('<butler-config>', "Butler's config file (production.yaml)")
    .option('--schedules <file>', "Butler's schedule file (butlerSchedule: list): written as a schedule/import request")
    .option('-o, --out <file>', 'The sensebus config to write', 'sensebus.yaml')
    .option('--force', 'Replace --out (and its .schedules.json) when they exist')
    .addHelpText(
      'after',
      '\nExample:\n  $ sensebus config import-butler production.yaml --schedules schedule.yaml --out sensebus.yaml\n' +
        '\nExit codes: 0 written and checked, 1 unreadable input or the written config fails the check.',
    )
    .action(async (source: string, flags: Flags) => {
      const [{ modules }, butler, { loadConfig }, { preflight }, { stringify }] = await Promise.all([
        import('../../capabilities/index.js'),
        import('../../config/butler/index.js'),
        import('../../config/load.js'),
        import('../../startup/preflight.js'),
        import('yaml'),
      ])
      // A Butler file that cannot be read or parsed is reported as one line, not a stack trace.
      const guard = <T>(step: () => T): T => {
        try {
          return step()
        } catch (err) {
          if (err instanceof butler.ButlerImportError) throw new CliError(err.message, EXIT.ERROR)
          throw err
        }
      }
      const result = guard(() => butler.importButlerConfig(read(source), source, modules))
      const schedules = flags.schedules
        ? guard(() =>
            butler.importSchedules(
              read(flags.schedules as string),
              flags.schedules as string,
              result.schedulerEnabled,
              result.allowedTaskIds,
            ),
          )
        : undefined
      const skipped = [...result.skipped, ...(schedules?.skipped ?? [])]
      const notes = [...result.notes, ...(schedules?.notes ?? [])]

      refuseOverwrite(flags.out, flags.force)
      const schedulesOut = schedulesFileFor(flags.out)
      if (schedules) refuseOverwrite(schedulesOut, flags.force)
      writeFileSync(flags.out, header(source, skipped) + stringify(result.config), { mode: 0o600 })
      try {
        // The same steps as `sensebus config check`, on the file alone (no SENSEBUS_* environment).
        preflight(loadConfig(modules, { file: flags.out, env: {} }), modules)
      } catch (err) {
        throw new CliError(
          `Wrote ${flags.out}, but it does not pass the config check (please report this):\n${(err as Error).message}`,
          EXIT.ERROR,
        )
      }
      const report = [
        `Wrote ${flags.out} (it passes \`sensebus config check\`).`,
        ...lines('Carried over differently, or off as in Butler:', notes),
        ...lines('Not carried over:', skipped),
      ]
      if (schedules) {
        writeFileSync(schedulesOut, `${JSON.stringify({ butlerSchedule: schedules.entries }, null, 2)}\n`)
        report.push(
          `Wrote ${schedules.entries.length} schedule(s) to ${schedulesOut}.`,
          'Once sensebus runs, import them (as admin):',
          `  sensebus request schedule/import @${schedulesOut}`,
        )
      }
      process.stdout.write(`${report.join('\n')}\n`)
    })
}
