import { createSocket, type Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import type { Logger } from '../../log.js'
import type { SimFaults } from '../faults.js'

export interface UdpTarget {
  host: string
  port: number
}

export interface SentDatagram {
  time: string
  text: string
  dropped: boolean
}

/** The log4net UdpAppender side (QLIK-PROTOCOLS §3.1): one UTF-8 datagram per event, fire and forget. */
export class DatagramSender {
  private socket: Socket | null = null
  readonly sent: SentDatagram[] = []

  constructor(
    private readonly target: UdpTarget,
    private readonly faults: SimFaults,
    private readonly log: Logger,
  ) {}

  private open(): Socket {
    if (!this.socket) {
      this.socket = createSocket(isIPv6(this.target.host) ? 'udp6' : 'udp4')
      this.socket.on('error', (err) => this.log.warn({ err }, 'UDP socket error'))
      this.socket.unref()
    }
    return this.socket
  }

  /** Sends `text` honouring the drop/duplicate faults; resolves once handed to the OS. */
  async send(text: string): Promise<void> {
    const dropped = this.faults.udpDrop
    this.sent.push({ time: new Date().toISOString(), text, dropped })
    if (this.sent.length > 1000) this.sent.splice(0, this.sent.length - 1000)
    if (dropped) {
      this.log.debug({ text }, 'datagram dropped (fault)')
      return
    }
    const copies = this.faults.udpDuplicate ? 2 : 1
    const socket = this.open()
    const payload = Buffer.from(text, 'utf8')
    for (let i = 0; i < copies; i++) {
      await new Promise<void>((resolve) => {
        socket.send(payload, this.target.port, this.target.host, (err) => {
          if (err) this.log.warn({ err }, 'datagram send failed')
          resolve()
        })
      })
    }
    this.log.debug({ text, copies }, 'datagram sent')
  }

  close(): Promise<void> {
    const socket = this.socket
    this.socket = null
    if (!socket) return Promise.resolve()
    return new Promise((resolve) => socket.close(() => resolve()))
  }
}
