// Numbers as people read them. Every function shows "–" for a value the server does not know yet.

const DASH = '–'

export function bytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return DASH
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = n
  let unit = 0
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`
}

export function duration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return DASH
  const s = Math.floor(seconds)
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  if (d > 0) return `${d}d ${h}h`
  if (h > 0) return `${h}h ${m}m`
  if (m > 0) return `${m}m ${s % 60}s`
  return `${s}s`
}

export function percent(ratio: number | null | undefined): string {
  if (ratio == null || !Number.isFinite(ratio)) return DASH
  return `${(ratio * 100).toFixed(1)}%`
}

export function ms(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return DASH
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`
}

export function num(value: number | null | undefined, digits = 1): string {
  if (value == null || !Number.isFinite(value)) return DASH
  return value.toFixed(digits)
}

export function clock(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000)
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}
