import { existsSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Static, Type } from '@sinclair/typebox'
import { Eta } from 'eta'
import { CapabilityError } from '../core/errors.js'
import { section } from '../core/schema.js'
import { defineService } from './define.js'

export interface TemplateService {
  /** Folders searched in order: the user's overrides first, then the shipped `templates/`. */
  readonly dirs: readonly string[]
  /**
   * Renders `name` (relative to the template folders, `.eta` implied) with `data` available as `it`.
   * `html` escapes interpolations; `text` leaves them as they are (plain text, chat messages).
   */
  render(name: string, data: object, format: 'html' | 'text'): string
  /** A template given as text, such as a subject line from the config file. */
  renderString(template: string, data: object, format: 'html' | 'text'): string
  exists(name: string): boolean
}

declare module '../core/services.js' {
  interface Services {
    templates: TemplateService
  }
}

export const templatesConfigSchema = section({
  dir: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'A folder of your own templates; a file here replaces the shipped one with the same path',
    }),
  ),
})
export type TemplatesConfig = Static<typeof templatesConfigSchema>

/** The `templates/` folder shipped with sensebus (next to `src/` and `dist/`). */
export const SHIPPED_TEMPLATES = fileURLToPath(new URL('../../templates', import.meta.url))

const inside = (dir: string, file: string) => {
  const rel = relative(dir, file)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
}

/**
 * One Eta per output format over the shipped templates and an optional folder of overrides. A
 * template, layout or partial is looked up in the override folder first, so a user replaces one file
 * and keeps the rest.
 */
export function createTemplates(dirs: readonly string[]): TemplateService {
  const make = (autoEscape: boolean) => {
    const eta = new Eta({ views: dirs[dirs.length - 1] as string, cache: true, autoEscape, autoTrim: false })
    eta.resolvePath = (template, options) => {
      const file = template.endsWith('.eta') ? template : `${template}.eta`
      // An include from inside a template resolves next to it first, then from the roots.
      const candidates = options?.filepath && !file.startsWith('/') ? [resolve(options.filepath, '..', file)] : []
      for (const dir of dirs) candidates.push(resolve(dir, file.replace(/^\/+/, '')))
      for (const c of candidates) if (dirs.some((d) => inside(d, c)) && existsSync(c)) return c
      throw new CapabilityError('NOT_FOUND', `No template '${template}' in ${dirs.join(', ')}`)
    }
    return eta
  }
  const byFormat = { html: make(true), text: make(false) }
  return {
    dirs,
    render: (name, data, format) => byFormat[format].render(name, data),
    renderString: (template, data, format) => byFormat[format].renderString(template, data),
    exists: (name) => dirs.some((d) => existsSync(join(d, name.endsWith('.eta') ? name : `${name}.eta`))),
  }
}

export const templatesService = defineService<'templates', TemplatesConfig>({
  name: 'templates',
  configSchema: templatesConfigSchema,
  async create({ config, baseDir }) {
    const dirs = config.dir ? [resolve(baseDir, config.dir), SHIPPED_TEMPLATES] : [SHIPPED_TEMPLATES]
    return createTemplates(dirs)
  },
})
