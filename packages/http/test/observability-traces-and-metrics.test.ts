import { describe, expect, it } from "@effect/vitest"
import { TracingConfig, type TracingOptions } from "@workflows/http"
import { ConfigProvider, Effect, Option, Schedule, type Scope } from "effect"
import { randomBytes } from "node:crypto"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { databases } from "./databases.js"
import { call } from "./fetch-support.js"
import { liveServer } from "./live-server.js"

/** What an OTLP/HTTP collector received: each POST's path, content type and body. */
interface Received {
  readonly path: string
  readonly contentType: string
  readonly body: Buffer
}

/** An OTLP/HTTP receiver on 127.0.0.1, standing in for a collector or Jaeger. */
const otlpReceiver: Effect.Effect<{ readonly url: string; readonly received: Array<Received> }, never, Scope.Scope> =
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly received: Array<Received>; readonly close: () => void }>((resume) => {
      const received: Array<Received> = []
      const server = createServer((request, response) => {
        const parts: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => parts.push(chunk))
        request.on("end", () => {
          received.push({
            path: request.url ?? "",
            contentType: request.headers["content-type"] ?? "",
            body: Buffer.concat(parts)
          })
          response.writeHead(200, { "content-type": "application/json" }).end("{}")
        })
      })
      server.listen(
        0,
        "127.0.0.1",
        () =>
          resume(
            Effect.succeed({
              url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
              received,
              close: () => server.close()
            })
          )
      )
    }),
    (receiver) => Effect.sync(() => receiver.close())
  )

/** The tracing options `workflows serve` would read from these variables. */
const tracingFrom = (env: Record<string, string>) =>
  Effect.withConfigProvider(TracingConfig, ConfigProvider.fromMap(new Map(Object.entries(env))))

interface OtlpValue {
  readonly stringValue?: string
  readonly intValue?: number | string
}
interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly kind: number
  readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: OtlpValue }>
}
interface OtlpExport {
  readonly resourceSpans: ReadonlyArray<{
    readonly resource: { readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: OtlpValue }> }
    readonly scopeSpans: ReadonlyArray<{ readonly spans: ReadonlyArray<OtlpSpan> }>
  }>
}

const attribute = (span: { readonly attributes: OtlpSpan["attributes"] }, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue))
}

/** Polls `check` until it holds (spans are exported in batches, the request counted after its response). */
const eventually = <A>(check: () => A | undefined, what: string): Effect.Effect<A> =>
  Effect.suspend(() => {
    const value = check()
    return value === undefined ? Effect.fail(what) : Effect.succeed(value)
  }).pipe(
    Effect.retry({ schedule: Schedule.spaced("25 millis"), times: 400 }),
    Effect.orDieWith((message) => new Error(`never happened: ${message}`))
  )

const sqlite = databases[0]!
const SERVER = 2

describe("traces over OTLP/HTTP", () => {
  it.scopedLive(
    "a PATCH carrying a traceparent arrives as spans of that trace: the server span, the operation and its statements",
    () =>
      Effect.gen(function*() {
        const receiver = yield* otlpReceiver
        const server = yield* liveServer(sqlite, {
          OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/`,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=test",
          OTEL_BSP_SCHEDULE_DELAY: "50"
        })
        const created = yield* Effect.promise(() =>
          call(server.url, "POST", "/v1/workflows", { key: server.key, json: { title: "Traced" } })
        )
        expect(created.status).toBe(201)

        // A probe makes no span, even one a caller traces.
        const probeTraceId = randomBytes(16).toString("hex")
        const probe = yield* Effect.promise(() =>
          call(server.url, "GET", "/healthz", {
            key: null,
            headers: { traceparent: `00-${probeTraceId}-${randomBytes(8).toString("hex")}-01` }
          })
        )
        expect(probe.status).toBe(200)

        const traceId = randomBytes(16).toString("hex")
        const callerSpanId = randomBytes(8).toString("hex")
        const patched = yield* Effect.promise(() =>
          call(server.url, "PATCH", `/v1/workflows/${created.body.id}`, {
            key: server.key,
            json: { title: "Renamed" },
            headers: { traceparent: `00-${traceId}-${callerSpanId}-01` }
          })
        )
        expect(patched.status).toBe(200)

        const spansOf = () =>
          receiver.received
            .filter((r) => r.path === "/v1/traces")
            .flatMap((r) => (JSON.parse(r.body.toString("utf8")) as OtlpExport).resourceSpans)
            .flatMap((resource) =>
              resource.scopeSpans.flatMap((scope) => scope.spans.map((span) => ({ span, resource: resource.resource })))
            )
        const serverSpan = yield* eventually(
          () => spansOf().find(({ span }) => span.traceId === traceId && span.kind === SERVER),
          "the PATCH's server span reached the receiver"
        )
        expect(serverSpan.span.name).toBe("PATCH /v1/workflows/{id}")
        expect(serverSpan.span.parentSpanId).toBe(callerSpanId)
        expect(attribute(serverSpan.span, "http.route")).toBe("/v1/workflows/{id}")
        expect(attribute(serverSpan.span, "http.request.method")).toBe("PATCH")
        expect(attribute(serverSpan.span, "http.response.status_code")).toBe(200)
        expect(attribute(serverSpan.span, "http.request.id")).toBe(patched.headers.get("x-request-id"))
        expect(attribute(serverSpan.span, "url.path")).toBe(`/v1/workflows/${created.body.id}`)
        expect(attribute(serverSpan.span, "client.address")).toBe("127.0.0.1")
        expect(attribute(serverSpan.span, "http.request.header.authorization")).toBe("<redacted>")
        expect(attribute(serverSpan.span, "http.response.header.etag")).toBe("\"2\"")
        expect(attribute(serverSpan.resource, "service.name")).toBe("workflows")
        expect(attribute(serverSpan.resource, "deployment.environment")).toBe("test")
        // The key never travels in a span.
        expect(JSON.stringify(serverSpan.span)).not.toContain(server.key)
        expect(spansOf().filter(({ span }) => span.traceId === probeTraceId)).toEqual([])

        const operation = yield* eventually(
          () => spansOf().find(({ span }) => span.traceId === traceId && span.name === "Workflows.update")?.span,
          "the operation's span reached the receiver"
        )
        expect(operation.parentSpanId).toBe(serverSpan.span.spanId)
        expect(attribute(operation, "workflow.id")).toBe(created.body.id)

        const statements = yield* eventually(() => {
          const found = spansOf().filter(({ span }) => span.traceId === traceId && span.name === "sql.execute").map((
            { span }
          ) => span)
          return found.some((s) => /^UPDATE workflows/.test(String(attribute(s, "db.query.text")))) ? found : undefined
        }, "the statements' spans reached the receiver")
        const byId = new Map(spansOf().map(({ span }) => [span.spanId, span] as const))
        const ancestors = (span: OtlpSpan) => {
          const names: Array<string> = []
          for (
            let at = byId.get(span.parentSpanId ?? "");
            at !== undefined;
            at = byId.get(at.parentSpanId ?? "")
          ) names.push(at.name)
          return names
        }
        // The key lookup runs under the server span; the read and the writes under the operation.
        for (const statement of statements) {
          const text = String(attribute(statement, "db.query.text"))
          expect(ancestors(statement), text).toContain("PATCH /v1/workflows/{id}")
          if (/workflows|workflow_events/.test(text)) expect(ancestors(statement), text).toContain("Workflows.update")
        }
      }),
    30_000
  )

  it.scopedLive("with the default protocol the spans arrive as protobuf", () =>
    Effect.gen(function*() {
      const receiver = yield* otlpReceiver
      const server = yield* liveServer(sqlite, {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: "50"
      })
      const traceId = randomBytes(16).toString("hex")
      const reply = yield* Effect.promise(() =>
        call(server.url, "GET", "/v1/workflows", {
          key: server.key,
          headers: { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` }
        })
      )
      expect(reply.status).toBe(200)
      const batch = yield* eventually(
        () => receiver.received.find((r) => r.path === "/v1/traces" && r.body.includes(Buffer.from(traceId, "hex"))),
        "a protobuf batch holding the trace reached the receiver"
      )
      expect(batch.contentType).toBe("application/x-protobuf")
      expect(batch.body.includes(Buffer.from("GET /v1/workflows"))).toBe(true)
    }), 30_000)
})

describe("tracing configuration", () => {
  it.effect("is off unless an OTLP endpoint is given", () =>
    Effect.gen(function*() {
      expect(yield* tracingFrom({})).toEqual(Option.none())
      expect(yield* tracingFrom({ OTEL_SERVICE_NAME: "x" })).toEqual(Option.none())
    }))

  it.effect("follows the OpenTelemetry variables", () =>
    Effect.gen(function*() {
      const on = (env: Record<string, string>) => Effect.map(tracingFrom(env), Option.getOrThrow)
      const base: TracingOptions = yield* on({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })
      expect(base).toMatchObject({
        url: "http://collector:4318/v1/traces",
        protocol: "http/protobuf",
        serviceName: "workflows",
        headers: {}
      })
      expect(yield* on({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SERVICE_NAME: "billing-workflows" }))
        .toMatchObject({
          serviceName: "billing-workflows"
        })
      // A service name given as a resource attribute is kept rather than replaced by the default.
      expect(
        yield* on({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_RESOURCE_ATTRIBUTES: "service.name=wf-eu" })
      ).toMatchObject({
        serviceName: undefined
      })
      expect(
        yield* on({
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example/api/v1/spans",
          OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc,x-tenant=t1"
        })
      ).toMatchObject({
        url: "https://traces.example/api/v1/spans",
        headers: { authorization: "Bearer abc", "x-tenant": "t1" }
      })
      const invalid = yield* Effect.either(
        tracingFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })
      )
      expect(invalid._tag).toBe("Left")
    }))
})

/** The samples of `name` in a Prometheus text page, with their labels parsed. */
const samples = (page: string, name: string) =>
  page.split("\n").flatMap((line) => {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) return []
    const labels = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!])
    )
    return [{ labels, value: Number(match[3]) }]
  })

for (const db of databases) {
  describe(`GET /metrics (${db.name})`, () => {
    it.scopedLive(
      "counts a PATCH by method, route template and status, with its duration, and no label holds an id",
      () =>
        Effect.gen(function*() {
          const server = yield* liveServer(db)
          const scrape = Effect.promise(() => call(server.url, "GET", "/metrics", { key: null }))
          const created = yield* Effect.promise(() =>
            call(server.url, "POST", "/v1/workflows", { key: server.key, json: { title: "Counted" } })
          )
          const patchCount = (page: string) =>
            samples(page, "http_server_requests_total").find((s) =>
              s.labels.method === "PATCH" && s.labels.route === "/v1/workflows/{id}" && s.labels.status === "200"
            )?.value ?? 0
          const before = patchCount((yield* scrape).text)

          const patched = yield* Effect.promise(() =>
            call(server.url, "PATCH", `/v1/workflows/${created.body.id}`, {
              key: server.key,
              json: { title: "Counted again" }
            })
          )
          expect(patched.status).toBe(200)
          yield* Effect.promise(() => call(server.url, "GET", `/v1/nothing/${created.body.id}`, { key: server.key }))

          // The request is counted once its response is written: poll rather than race it.
          const reply = yield* Effect.retry(
            Effect.flatMap(
              scrape,
              (r) => (patchCount(r.text) > before ? Effect.succeed(r) : Effect.fail("not yet counted"))
            ),
            { schedule: Schedule.spaced("20 millis"), times: 100 }
          )
          expect(reply.status).toBe(200)
          expect(reply.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/)
          expect(patchCount(reply.text)).toBe(before + 1)

          const histogram = samples(reply.text, "http_server_request_duration_seconds_count").find((s) =>
            s.labels.method === "PATCH" && s.labels.route === "/v1/workflows/{id}"
          )
          expect(histogram?.value).toBeGreaterThanOrEqual(1)
          expect(
            samples(reply.text, "http_server_request_duration_seconds_bucket").some((s) =>
              s.labels.route === "/v1/workflows/{id}" && s.labels.le === "+Inf"
            )
          ).toBe(true)
          // An unknown path is counted under one fixed label, whatever its segments.
          expect(
            samples(reply.text, "http_server_requests_total").some((s) =>
              s.labels.route === "unmatched" && s.labels.status === "404"
            )
          ).toBe(true)
          expect(reply.text).toContain("# TYPE http_server_requests_total counter")
          expect(reply.text).toContain("# TYPE http_server_request_duration_seconds histogram")

          for (
            const name of [
              "nodejs_heap_size_used_bytes",
              "nodejs_eventloop_lag_p99_seconds",
              "process_resident_memory_bytes"
            ]
          ) {
            expect(samples(reply.text, name).length, name).toBe(1)
          }
          // Pool use on PostgreSQL (the default pool of 10); SQLite has one connection and no pool.
          if (db.name === "postgres") {
            expect(samples(reply.text, "db_client_connection_max")).toEqual([{ labels: {}, value: 10 }])
            const states = samples(reply.text, "db_client_connection_count")
            expect(states.map((s) => s.labels.state).sort()).toEqual(["idle", "used"])
            expect(states.reduce((sum, s) => sum + s.value, 0)).toBeGreaterThanOrEqual(1)
            expect(samples(reply.text, "db_client_connection_pending_requests")).toHaveLength(1)
          } else {
            expect(reply.text).not.toContain("db_client_connection")
          }
          const labelValues = reply.text.split("\n").filter((line) => !line.startsWith("#")).flatMap((line) =>
            [...line.matchAll(/="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!)
          )
          expect(labelValues.length).toBeGreaterThan(0)
          for (const value of labelValues) expect(value).not.toMatch(/wf_|wfl_|org_|req_|key_/)
        }),
      30_000
    )
  })
}
