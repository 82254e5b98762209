import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { Command } from 'commander'
import { VERSION } from '../../version.js'

// The catalogue needs every capability module; loaded when a topics verb runs, not for every CLI call.
const catalogue = async () => {
  const [{ modules }, { generateTopicFiles }, { withCapabilityTable }] = await Promise.all([
    import('../../capabilities/index.js'),
    import('../../catalogue/generate.js'),
    import('../../catalogue/readme-table.js'),
  ])
  return { modules, generateTopicFiles, withCapabilityTable }
}

/** Writes topics/ exactly (stale schema files removed), so `git diff` tells whether it is current. */
export async function writeTopics(dir: string): Promise<number> {
  const { modules, generateTopicFiles } = await catalogue()
  const files = generateTopicFiles(modules, VERSION)
  await rm(join(dir, 'schemas'), { recursive: true, force: true })
  for (const [path, content] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true })
    await writeFile(join(dir, path), content)
  }
  return (await readdir(join(dir, 'schemas'))).length
}

/** Rewrites the capability table in a README (the project's own, next to topics/). */
export async function writeReadmeTable(readme: string): Promise<void> {
  const { modules, withCapabilityTable } = await catalogue()
  await writeFile(readme, withCapabilityTable(await readFile(readme, 'utf8'), modules))
}

export function topicsCommand(): Command {
  return new Command('topics')
    .description('Print the topic catalogue, or write topics/ (schemas, AsyncAPI 3 document, README)')
    .option('--write <dir>', 'write the catalogue files into this directory')
    .option('--readme <file>', "also rewrite this README's capability table")
    .addHelpText('after', `\nExample:\n  $ sensebus topics | less\n  $ sensebus topics --write topics`)
    .action(async (flags: { write?: string; readme?: string }) => {
      if (flags.readme) await writeReadmeTable(resolve(flags.readme))
      if (flags.write) {
        const count = await writeTopics(resolve(flags.write))
        process.stdout.write(`wrote ${count} schemas, asyncapi.json and README.md to ${flags.write}\n`)
        return
      }
      const { modules, generateTopicFiles } = await catalogue()
      process.stdout.write(generateTopicFiles(modules, VERSION).get('README.md') ?? '')
    })
}
