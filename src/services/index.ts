import { chatService } from './chat/index.js'
import { filesService } from './files/index.js'
import { mailService } from './mail.js'
import { outboxService } from './outbox/index.js'
import { senseService } from './sense.js'
import { storeService } from './store/index.js'
import { templatesService } from './templates.js'

/** The service registry: every long-lived dependency a module may declare in `needs`. */
export const services = [
  storeService,
  senseService,
  mailService,
  templatesService,
  outboxService,
  filesService,
  chatService,
]
