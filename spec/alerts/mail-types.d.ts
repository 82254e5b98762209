// mailparser ships no types; only what the alert specs read.
declare module 'mailparser' {
  interface AddressObject {
    text: string
    value: Array<{ address?: string; name: string }>
  }
  interface ParsedMail {
    from?: AddressObject
    to?: AddressObject | AddressObject[]
    subject?: string
    text?: string
    html?: string | false
    messageId?: string
    headers: Map<string, unknown>
  }
  export function simpleParser(source: Buffer): Promise<ParsedMail>
}
