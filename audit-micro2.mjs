import { auditFields } from './dist-bench/src/security/audit.js'
import { destination } from 'pino'
const e = { capability: 'kv/get', transaction: 'abc123', via: 'http', transport: 'http', username: 'anonymous', roles: ['loadscript', 'admin'], origin: '127.0.0.1', outcome: 'ok', durationMs: 0.412 }
const d = destination({ dest: '/tmp/am2.log', sync: false, minLength: 4096, maxLength: 16 << 20 })
for (let r = 0; r < 4; r++) {
  let N = 200000, c0 = process.cpuUsage(), x = 0
  for (let i = 0; i < N; i++) { e.durationMs = i / 1000; x += auditFields({ ...e, transaction: e.transaction }).length }
  let c = process.cpuUsage(c0); process.stderr.write(`fields ${((c.user + c.system) / N).toFixed(2)} µs; `)
  c0 = process.cpuUsage()
  for (let i = 0; i < N; i++) x += new Date().toISOString().length
  c = process.cpuUsage(c0); process.stderr.write(`iso ${((c.user + c.system) / N).toFixed(2)} µs; `)
  N = 20000; c0 = process.cpuUsage(); const line = 'x'.repeat(290) + '\n'
  for (let i = 0; i < N; i++) d.write(line)
  c = process.cpuUsage(c0); process.stderr.write(`sonic write ${((c.user + c.system) / N).toFixed(2)} µs\n`)
  await new Promise((r) => setTimeout(r, 300))
}
