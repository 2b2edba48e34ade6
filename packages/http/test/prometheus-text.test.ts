import { describe, expect, it } from "@effect/vitest"
import { PrometheusText } from "@workflows/http"
import { Effect, Metric, MetricBoundaries } from "effect"

/** Each test records into metrics of its own name (the registry is per process) and renders only those. */
const renderOnly = (prefix: string) =>
  Effect.map(
    Metric.snapshot,
    (pairs) => PrometheusText.render(pairs.filter((p) => p.metricKey.name.startsWith(prefix)))
  )

describe("the Prometheus text rendering of Effect metrics", () => {
  it.effect("writes one HELP/TYPE header per metric, then its series; label values are escaped", () =>
    Effect.gen(function*() {
      const requests = Metric.counter("t1_requests_total", { description: "Requests.", incremental: true })
      yield* Metric.increment(Metric.tagged(requests, "route", "/a"))
      yield* Metric.incrementBy(Metric.tagged(requests, "route", "say \"hi\"\\\n"), 2)
      expect(yield* renderOnly("t1_")).toBe(
        "# HELP t1_requests_total Requests.\n# TYPE t1_requests_total counter\n" +
          "t1_requests_total{route=\"/a\"} 1\n" +
          "t1_requests_total{route=\"say \\\"hi\\\"\\\\\\n\"} 2\n"
      )
    }))

  it.effect("a counter that may go down is a gauge to Prometheus", () =>
    Effect.gen(function*() {
      const active = Metric.counter("t2_active")
      yield* Metric.incrementBy(active, 3)
      yield* Metric.incrementBy(active, -1)
      expect(yield* renderOnly("t2_")).toBe("# HELP t2_active t2_active\n# TYPE t2_active gauge\nt2_active 2\n")
    }))

  it.effect("a histogram has cumulative buckets up to +Inf, a sum and a count", () =>
    Effect.gen(function*() {
      const duration = Metric.histogram("t3_seconds", MetricBoundaries.fromIterable([0.1, 1]), "Durations.")
      for (const value of [0.05, 0.5, 0.7, 3]) yield* Metric.update(duration, value)
      expect(yield* renderOnly("t3_")).toBe(
        "# HELP t3_seconds Durations.\n# TYPE t3_seconds histogram\n" +
          "t3_seconds_bucket{le=\"0.1\"} 1\nt3_seconds_bucket{le=\"1\"} 3\nt3_seconds_bucket{le=\"+Inf\"} 4\n" +
          "t3_seconds_sum 4.25\nt3_seconds_count 4\n"
      )
    }))
})
