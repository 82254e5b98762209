#!/usr/bin/env node
import { Command } from 'commander'
import { registerSimCommand } from '../sim/cli.js'
import { VERSION } from '../version.js'
import { configCommand } from './commands/config.js'
import { passwdCommand } from './commands/passwd.js'
import { demoCommand } from './commands/demo.js'
import { publishCommand } from './commands/publish.js'
import { requestCommand } from './commands/request.js'
import { startCommand } from './commands/start.js'
import { subscribeCommand } from './commands/subscribe.js'
import { tokenCommand } from './commands/token.js'
import { topicsCommand } from './commands/topics.js'

const program = new Command('sensebus')
  .description('MQTT-first companion service for Qlik Sense Enterprise on Windows')
  .version(VERSION)
  .showHelpAfterError()

// One file per verb; this list is the CLI's registry.
program.addCommand(startCommand())
program.addCommand(requestCommand())
program.addCommand(publishCommand())
program.addCommand(subscribeCommand())
program.addCommand(topicsCommand())
program.addCommand(configCommand())
program.addCommand(passwdCommand())
program.addCommand(tokenCommand())
program.addCommand(demoCommand())
registerSimCommand(program)

await program.parseAsync(process.argv)
