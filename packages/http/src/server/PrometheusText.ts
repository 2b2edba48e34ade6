import { MetricKeyType, MetricState, Option } from "effect"
import type { MetricPair } from "effect"

/** One sample line's labels, in order. */
export type Labels = ReadonlyArray<readonly [name: string, value: string]>

/** A metric family the scrape renders beside Effect's own: process figures read at scrape time. */
export interface Family {
  readonly name: string
  readonly help: string
  readonly type: "counter" | "gauge"
  readonly samples: ReadonlyArray<readonly [labels: Labels, value: number]>
}

const escapeValue = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
const metricName = (name: string) => name.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/^([0-9])/, "_$1")

const number = (value: number | bigint): string =>
  typeof value === "bigint"
    ? value.toString()
    : Number.isNaN(value)
    ? "NaN"
    : value === Infinity
    ? "+Inf"
    : value === -Infinity
    ? "-Inf"
    : String(value)

const sample = (name: string, labels: Labels, value: number | bigint): string =>
  labels.length === 0
    ? `${name} ${number(value)}`
    : `${name}{${labels.map(([label, v]) => `${metricName(label)}="${escapeValue(v)}"`).join(",")}} ${number(value)}`

interface Group {
  help: string
  type: string
  readonly lines: Array<string>
}

/**
 * Effect's metric registry (and the `extra` families) in the Prometheus text exposition format
 * (version 0.0.4): counters, gauges, histograms, summaries, and frequencies as one counter per
 * value. Series of one metric are grouped under one `# HELP` / `# TYPE` header. No maintained
 * exporter renders Effect's metrics: OpenTelemetry's Prometheus exporter needs its SDK.
 */
export const render = (
  pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>,
  extra: ReadonlyArray<Family> = []
): string => {
  const groups = new Map<string, Group>()
  const group = (name: string, type: string, help: string): Group => {
    let found = groups.get(name)
    if (found === undefined) {
      found = { help, type, lines: [] }
      groups.set(name, found)
    }
    return found
  }
  for (const { metricKey, metricState } of pairs) {
    const name = metricName(metricKey.name)
    const help = Option.getOrElse(metricKey.description, () => name)
    const labels: Labels = metricKey.tags.map((tag) => [tag.key, tag.value] as const)
    if (MetricState.isCounterState(metricState)) {
      // A counter that is not `incremental` may go down (Effect's `effect_fiber_active`): a gauge to Prometheus.
      const monotonic = MetricKeyType.isCounterKey(metricKey.keyType) && metricKey.keyType.incremental
      group(name, monotonic ? "counter" : "gauge", help).lines.push(sample(name, labels, metricState.count))
    } else if (MetricState.isGaugeState(metricState)) {
      group(name, "gauge", help).lines.push(sample(name, labels, metricState.value))
    } else if (MetricState.isHistogramState(metricState)) {
      const lines = group(name, "histogram", help).lines
      for (const [boundary, count] of metricState.buckets) {
        lines.push(sample(`${name}_bucket`, [...labels, ["le", number(boundary)]], count))
      }
      if (!metricState.buckets.some(([boundary]) => boundary === Infinity)) {
        lines.push(sample(`${name}_bucket`, [...labels, ["le", "+Inf"]], metricState.count))
      }
      lines.push(sample(`${name}_sum`, labels, metricState.sum), sample(`${name}_count`, labels, metricState.count))
    } else if (MetricState.isSummaryState(metricState)) {
      const lines = group(name, "summary", help).lines
      for (const [quantile, value] of metricState.quantiles) {
        lines.push(sample(name, [...labels, ["quantile", String(quantile)]], Option.getOrElse(value, () => NaN)))
      }
      lines.push(sample(`${name}_sum`, labels, metricState.sum), sample(`${name}_count`, labels, metricState.count))
    } else if (MetricState.isFrequencyState(metricState)) {
      const lines = group(name, "counter", help).lines
      for (const [value, count] of metricState.occurrences) {
        lines.push(sample(name, [...labels, ["value", value]], count))
      }
    }
  }
  for (const family of extra) {
    const lines = group(family.name, family.type, family.help).lines
    for (const [labels, value] of family.samples) lines.push(sample(family.name, labels, value))
  }
  let text = ""
  for (const [name, { help, lines, type }] of groups) {
    text += `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n${lines.join("\n")}\n`
  }
  return text
}
