import type { TemplateService } from '../../../services/templates.js'
import type { Destination } from '../config.js'
import type { AlertData } from '../messages.js'
import type { ChatPlanner } from '../pipeline.js'
import { basicSubject, basicText, pickTemplate, renderOr } from '../render.js'

/**
 * Slack and Teams alerts on the chat service's outbox kinds (`slack`, `teams`). The message structure
 * (blocks, Adaptive Card) is built here in code; only the human text comes from templates
 * (`alert/<slack|teams>/<basic|formatted>.txt.eta`), with the built-in text when one fails.
 */
export function chatPlanner(templates: TemplateService): ChatPlanner {
  return (dest: Destination & { type: 'slack' | 'teams' }, data: AlertData) => {
    const format = dest.format ?? 'formatted'
    const errors: string[] = []
    const headline = renderOr(
      () => templates.render(pickTemplate(templates, [`alert/${dest.type}/basic.txt`]), data, 'text').trim(),
      () => basicSubject(data),
    )
    if (headline.error) errors.push(`headline: ${headline.error}`)
    let body = ''
    if (format === 'formatted') {
      const r = renderOr(
        () => templates.render(pickTemplate(templates, [`alert/${dest.type}/formatted.txt`]), data, 'text').trim(),
        () => basicText(data),
      )
      if (r.error) errors.push(`body: ${r.error}`)
      body = r.value
    }
    const links = [
      ...(data.qlikSenseQMC ? [{ title: 'Open QMC', url: data.qlikSenseQMC }] : []),
      ...(data.qlikSenseHub ? [{ title: 'Open Hub', url: data.qlikSenseHub }] : []),
    ]
    if (dest.type === 'slack') {
      const blocks: unknown[] = [{ type: 'header', text: { type: 'plain_text', text: headline.value.slice(0, 150) } }]
      if (body) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: body.slice(0, 2900) } })
      if (links.length)
        blocks.push({
          type: 'actions',
          elements: links.map((l) => ({ type: 'button', text: { type: 'plain_text', text: l.title }, url: l.url })),
        })
      return {
        kind: 'slack',
        payload: { target: { url: dest.url }, message: { text: headline.value, blocks } },
        templateErrors: errors,
      }
    }
    const card = {
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.3',
      body: [
        { type: 'TextBlock', text: headline.value, weight: 'Bolder', size: 'Medium', wrap: true },
        ...(body ? [{ type: 'TextBlock', text: body, wrap: true, fontType: 'Monospace' }] : []),
      ],
      actions: links.map((l) => ({ type: 'Action.OpenUrl', title: l.title, url: l.url })),
    }
    return { kind: 'teams', payload: { target: { url: dest.url }, card }, templateErrors: errors }
  }
}
