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
import { EXIT, fail, reportAndExit, usageErrorsExit2 } from './exit.js'

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
usageErrorsExit2(program)

// A verb whose promise never settles would otherwise end with Node's silent exit code 13: the event
// loop ran dry while it waited (a connection the broker closed, a callback that never came).
let finished = false
process.once('beforeExit', () => {
  if (!finished) fail('sensebus: the command ended without an outcome (the connection closed?)', EXIT.ERROR)
})
try {
  await program.parseAsync(process.argv)
} catch (err) {
  reportAndExit(err)
}
finished = true
