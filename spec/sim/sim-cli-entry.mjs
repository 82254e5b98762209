// Test-only process entry: a commander program with just `sim`, run from the built dist/ (the vitest
// global setup compiles it). src/cli/index.ts registers the same command in the real CLI.
import { Command } from 'commander'
import { registerSimCommand } from '../../dist/sim/cli.js'

const program = new Command('sensebus')
registerSimCommand(program)
await program.parseAsync(process.argv)
