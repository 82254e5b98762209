/** Local-time formatters for the two log formats the simulator writes. */

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0')
}

/** QLIK-PROTOCOLS §3.3 field 7: log4net `%date`, local time `yyyy-MM-dd HH:mm:ss,fff`. */
export function log4netDate(date: Date): string {
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())},${pad(date.getMilliseconds(), 3)}`
  )
}

/** `+hhmm` offset of local time from UTC at that instant. */
function utcOffset(date: Date): string {
  const minutes = -date.getTimezoneOffset()
  const sign = minutes >= 0 ? '+' : '-'
  const abs = Math.abs(minutes)
  return `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
}

/** QLIK-PROTOCOLS §4.6: script-log line prefix `YYYYMMDDThhmmss.fff+hhmm` (local time). */
export function scriptLogTimestamp(date: Date): string {
  return (
    `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}T` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}` +
    utcOffset(date)
  )
}
