import { Effect, Metric, MetricBoundaries, MetricKey, MetricLabel, Option } from "effect"
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks"
import { poolUse } from "../storage/Sql.js"
import { type Family, render } from "./PrometheusText.js"
import { methodLabel } from "./RouteTemplates.js"

/** Seconds; the HTTP semantic conventions' advice for request durations. */
const DURATION_BOUNDARIES = MetricBoundaries.fromIterable([
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10
])

const REQUESTS = "http_server_requests_total"
const DURATION = "http_server_request_duration_seconds"
const DATABASE_ERRORS = "database_errors_total"

interface RequestSeries {
  readonly count: Metric.Metric.Counter<number>
  readonly duration: Metric.Metric.Histogram<number>
}

/**
 * One metric per label set, made once and kept: updating a metric whose tags are part of its key
 * is a field read and an add, where `Metric.tagged` looks the series up in the registry (hashing
 * its labels) on every update.
 */
const requestSeries = new Map<string, RequestSeries>()
const durations = new Map<string, Metric.Metric.Histogram<number>>()

const labels = (pairs: ReadonlyArray<readonly [string, string]>) =>
  pairs.map(([key, value]) => MetricLabel.make(key, value))

const durationOf = (method: string, route: string) => {
  const key = `${method} ${route}`
  let found = durations.get(key)
  if (found === undefined) {
    found = Metric.fromMetricKey(
      MetricKey.histogram(DURATION, DURATION_BOUNDARIES, "How long requests took, by method and route template.").pipe(
        MetricKey.taggedWithLabels(labels([["method", method], ["route", route]]))
      )
    )
    durations.set(key, found)
  }
  return found
}

const seriesOf = (method: string, route: string, status: number): RequestSeries => {
  const key = `${method} ${route} ${status}`
  let found = requestSeries.get(key)
  if (found === undefined) {
    found = {
      count: Metric.fromMetricKey(
        MetricKey.counter(REQUESTS, {
          description: "Requests answered, by method, route template and status.",
          incremental: true
        }).pipe(
          MetricKey.taggedWithLabels(labels([["method", method], ["route", route], ["status", String(status)]]))
        )
      ),
      duration: durationOf(method, route)
    }
    requestSeries.set(key, found)
  }
  return found
}

/**
 * Counts one answered request and its duration. Called by the request log once the response is
 * written; `route` is the template (`/v1/workflows/{id}`) or `UNMATCHED_ROUTE`, never the path.
 */
export const recordRequest = (method: string, route: string, status: number, seconds: number): void => {
  const series = seriesOf(methodLabel(method), route, status)
  series.count.unsafeUpdate(1, [])
  series.duration.unsafeUpdate(seconds, [])
}

const databaseErrors = new Map<string, Metric.Metric.Counter<number>>()

/** A driver's error code as a label: only the shapes drivers use (SQLSTATE, SQLITE_*, errno), else `other`. */
const codeLabel = (code: string | undefined): string =>
  code !== undefined && /^(?:[0-9A-Z]{5}|SQLITE_[A-Z_]{1,40}|E[A-Z]{2,20}|POOL_TIMEOUT)$/.test(code) ? code : "other"

/**
 * Counts a database failure that reached the edge: `transient` ones (the database down, overloaded
 * or locked) were answered 503 with `Retry-After`, `other` ones 500.
 */
export const recordDatabaseError = (kind: "transient" | "other", code: string | undefined): void => {
  const label = codeLabel(code)
  const key = `${kind} ${label}`
  let found = databaseErrors.get(key)
  if (found === undefined) {
    found = Metric.fromMetricKey(
      MetricKey.counter(DATABASE_ERRORS, {
        description:
          "Database failures that reached a request: transient (answered 503) or other (500), by driver code.",
        incremental: true
      }).pipe(
        MetricKey.taggedWithLabels(labels([["kind", kind], ["code", label]]))
      )
    )
    databaseErrors.set(key, found)
  }
  found.unsafeUpdate(1, [])
}

const gauge = (name: string, help: string, value: number): Family => ({
  name,
  help,
  type: "gauge",
  samples: [[[], value]]
})
const counter = (name: string, help: string, value: number): Family => ({
  name,
  help,
  type: "counter",
  samples: [[[], value]]
})

const startTime = Date.now() / 1000 - process.uptime()

/**
 * Process figures read at scrape time, named and measured as prom-client's default metrics are, so
 * dashboards made for those fit. The event-loop figures are sampled every 10 ms: an idle loop reads
 * about 0.010 s.
 */
const processFamilies = (eventLoop: IntervalHistogram): ReadonlyArray<Family> => {
  const memory = process.memoryUsage()
  const cpu = process.cpuUsage()
  const seconds = (nanoseconds: number) => (Number.isFinite(nanoseconds) ? nanoseconds / 1e9 : 0)
  return [
    counter("process_cpu_user_seconds_total", "User CPU time spent, in seconds.", cpu.user / 1e6),
    counter("process_cpu_system_seconds_total", "System CPU time spent, in seconds.", cpu.system / 1e6),
    gauge(
      "process_start_time_seconds",
      "Start time of the process since the Unix epoch, in seconds.",
      Math.round(startTime)
    ),
    gauge("process_resident_memory_bytes", "Resident memory size, in bytes.", memory.rss),
    gauge("nodejs_heap_size_total_bytes", "Size of the V8 heap, in bytes.", memory.heapTotal),
    gauge("nodejs_heap_size_used_bytes", "V8 heap in use, in bytes.", memory.heapUsed),
    gauge(
      "nodejs_external_memory_bytes",
      "Memory of C++ objects bound to JavaScript objects, in bytes.",
      memory.external
    ),
    gauge(
      "nodejs_eventloop_lag_mean_seconds",
      "Mean event-loop delay since the last scrape, in seconds.",
      seconds(eventLoop.mean)
    ),
    gauge(
      "nodejs_eventloop_lag_p50_seconds",
      "Median event-loop delay since the last scrape, in seconds.",
      seconds(eventLoop.percentile(50))
    ),
    gauge(
      "nodejs_eventloop_lag_p99_seconds",
      "99th percentile of the event-loop delay since the last scrape, in seconds.",
      seconds(eventLoop.percentile(99))
    ),
    gauge(
      "nodejs_eventloop_lag_max_seconds",
      "Longest event-loop delay since the last scrape, in seconds.",
      seconds(eventLoop.max)
    )
  ]
}

/** PostgreSQL pool use, named after the database-client semantic conventions' metrics. */
const poolFamilies = (): ReadonlyArray<Family> =>
  Option.match(poolUse(), {
    onNone: () => [],
    onSome: (use) => [
      {
        name: "db_client_connection_count",
        help: "Connections the PostgreSQL pool holds, by state.",
        type: "gauge",
        samples: [[[["state", "idle"]], use.idle], [[["state", "used"]], use.total - use.idle]]
      },
      gauge("db_client_connection_max", "Connections the PostgreSQL pool may open.", use.max),
      gauge("db_client_connection_pending_requests", "Callers waiting for a PostgreSQL connection.", use.waiting)
    ]
  })

/**
 * The `/metrics` page: every Effect metric of the process (the request and database series above,
 * and any an embedding program defines), PostgreSQL pool use and process figures. The event-loop
 * monitor samples from the moment the handler is built until the server stops; each scrape reads
 * and resets it.
 */
export const makeScrape = Effect.map(
  Effect.acquireRelease(
    Effect.sync(() => {
      const histogram = monitorEventLoopDelay({ resolution: 10 })
      histogram.enable()
      return histogram
    }),
    (histogram) => Effect.sync(() => histogram.disable())
  ),
  (eventLoop) =>
    Effect.map(Metric.snapshot, (pairs) => {
      const text = render(pairs, [...poolFamilies(), ...processFamilies(eventLoop)])
      eventLoop.reset()
      return text
    })
)
