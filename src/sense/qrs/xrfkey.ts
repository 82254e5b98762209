import { randomInt } from 'node:crypto'

/** QLIK-PROTOCOLS §1.3: exactly 16 characters, only 0-9, a-z and A-Z. */
const XRF_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
export const XRFKEY_LENGTH = 16

/**
 * A fresh anti-XSRF key. Butler keeps one per client; we make one per call, so a key seen in a log or
 * a proxy trace is worth nothing for the next request. `randomInt` avoids modulo bias.
 */
export function newXrfkey(): string {
  let key = ''
  for (let i = 0; i < XRFKEY_LENGTH; i++) key += XRF_ALPHABET[randomInt(XRF_ALPHABET.length)]
  return key
}

export const XRFKEY_PATTERN = /^[A-Za-z0-9]{16}$/
