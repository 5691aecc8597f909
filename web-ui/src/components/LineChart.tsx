// A small SVG line chart for a rolling window of samples: no chart library, no animation.

export interface Series {
  name: string
  /** One value per sample, oldest first; null leaves a gap. */
  values: (number | null)[]
  /** A CSS colour; defaults to the theme's accent. */
  color?: string
}

interface Props {
  title: string
  series: Series[]
  /** Samples the x axis has room for; fewer samples draw from the right edge. */
  capacity: number
  format: (value: number) => string
  height?: number
}

const WIDTH = 300

export function LineChart({ title, series, capacity, format, height = 80 }: Props) {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v != null && Number.isFinite(v)))
  const peak = Math.max(...all, 0)
  // Headroom above the peak, and never a zero range when every value is 0.
  const top = peak * 1.15 || 1
  const x = (i: number, n: number) => ((capacity - n + i) / Math.max(capacity - 1, 1)) * WIDTH
  // Two units of padding keep a line of zeros visible above the axis.
  const y = (v: number) => height - 2 - (v / top) * (height - 4)

  return (
    <figure className="chart" aria-label={title}>
      <figcaption>
        <span>{title}</span>
        {series.map((s) => {
          const last = [...s.values].reverse().find((v) => v != null)
          return (
            <span key={s.name} className="chart-legend" style={{ color: s.color }}>
              {series.length > 1 ? `${s.name} ` : ''}
              <strong data-testid={`chart-${title}-${s.name}`}>{last == null ? '–' : format(last)}</strong>
            </span>
          )
        })}
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${height}`} preserveAspectRatio="none" role="img" aria-label={`${title} chart`}>
        <line x1="0" x2={WIDTH} y1={height - 0.5} y2={height - 0.5} className="chart-axis" />
        {series.map((s) => (
          <polyline
            key={s.name}
            fill="none"
            stroke={s.color ?? 'var(--accent)'}
            strokeWidth="1.5"
            vectorEffect="non-scaling-stroke"
            points={pointsOf(s.values, x, y)}
          />
        ))}
      </svg>
      <div className="chart-scale">peak {format(peak)}</div>
    </figure>
  )
}

function pointsOf(values: (number | null)[], x: (i: number, n: number) => number, y: (v: number) => number) {
  return values
    .map((v, i) => (v == null || !Number.isFinite(v) ? null : `${x(i, values.length).toFixed(1)},${y(v).toFixed(1)}`))
    .filter((p) => p != null)
    .join(' ')
}
