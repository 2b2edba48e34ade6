import * as Headers from "@effect/platform/Headers"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import { Config, Context, Duration, Effect, Layer, Option, type Redacted, type Tracer } from "effect"
import { CurrentRequestId } from "./RequestId.js"
import { CurrentRoute, methodLabel } from "./RouteTemplates.js"

/** Where and how spans are exported: the OpenTelemetry SDK's standard variables, read by `TracingConfig`. */
export interface TracingOptions {
  /** The OTLP/HTTP traces URL: `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is. */
  readonly url: string
  readonly protocol: "http/protobuf" | "http/json"
  readonly headers: Readonly<Record<string, string>>
  /** `undefined` when `OTEL_RESOURCE_ATTRIBUTES` names the service itself. */
  readonly serviceName: string | undefined
  /** `OTEL_RESOURCE_ATTRIBUTES`: where the spans come from (`deployment.environment=prod,…`). */
  readonly resourceAttributes: Readonly<Record<string, string>>
  readonly exportInterval: Duration.Duration
}

export const DEFAULT_SERVICE_NAME = "workflows"

/** `key=value,key=value`, as `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_RESOURCE_ATTRIBUTES` write them. */
const keyValues = (raw: string): Record<string, string> => {
  const pairs: Record<string, string> = {}
  for (const pair of raw.split(",")) {
    const at = pair.indexOf("=")
    if (at > 0) pairs[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim())
  }
  return pairs
}

const optional = (name: string) => Config.option(Config.nonEmptyString(name))
const protocol = Config.literal("http/protobuf", "http/json")

/**
 * Tracing is on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set.
 * `OTEL_SERVICE_NAME` (default `workflows`), `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, the default, or `http/json`),
 * `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_BSP_SCHEDULE_DELAY` (milliseconds between exports) are honoured.
 */
export const TracingConfig: Config.Config<Option.Option<TracingOptions>> = Config.all({
  endpoint: optional("OTEL_EXPORTER_OTLP_ENDPOINT"),
  tracesEndpoint: optional("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
  protocol: Config.all([
    Config.option(protocol("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")),
    Config.option(protocol("OTEL_EXPORTER_OTLP_PROTOCOL"))
  ]).pipe(
    Config.map(([traces, general]) =>
      Option.getOrElse(Option.orElse(traces, () => general), () => "http/protobuf" as const)
    )
  ),
  headers: Config.map(optional("OTEL_EXPORTER_OTLP_HEADERS"), Option.match({ onNone: () => ({}), onSome: keyValues })),
  serviceName: optional("OTEL_SERVICE_NAME"),
  resourceAttributes: Config.map(
    optional("OTEL_RESOURCE_ATTRIBUTES"),
    Option.match({ onNone: () => ({}), onSome: keyValues })
  ),
  scheduleDelay: Config.integer("OTEL_BSP_SCHEDULE_DELAY").pipe(Config.withDefault(5000))
}).pipe(
  Config.map(({ endpoint, headers, protocol, resourceAttributes, scheduleDelay, serviceName, tracesEndpoint }) =>
    Option.orElse(tracesEndpoint, () => Option.map(endpoint, (base) => `${base.replace(/\/+$/, "")}/v1/traces`)).pipe(
      Option.map((url): TracingOptions => ({
        url,
        protocol,
        headers,
        resourceAttributes,
        serviceName: Option.getOrElse(
          serviceName,
          () => ("service.name" in resourceAttributes ? undefined : DEFAULT_SERVICE_NAME)
        ),
        exportInterval: Duration.millis(Math.max(10, scheduleDelay))
      }))
    )
  )
)

/** Probes and scrapes every few seconds would bury the requests worth looking at. */
const UNTRACED = new Set(["/metrics", "/healthz", "/readyz"])

const headerAttributes = (span: Tracer.Span, prefix: string, headers: Record<string, string | Redacted.Redacted>) => {
  for (const name in headers) span.attribute(`${prefix}.${name}`, String(headers[name]))
}

/**
 * The server span of a traced request, continued from an incoming W3C `traceparent` (or B3), with the
 * request's work beneath it. Named and annotated as the HTTP semantic conventions have it:
 * `PATCH /v1/workflows/{id}` (the method alone when no route matches), the method, path, query,
 * client address, user agent, the route as the API document writes it, the status, and the request
 * and response headers with `Headers.currentRedactedNames` redacted (`Authorization` among them);
 * plus the request id that the log line and the audit trail carry. The route and request id are the
 * request fiber's (`requestFiberRefs`).
 */
export const serverSpan = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.withFiberRuntime((fiber) => {
    const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
    const queryAt = request.url.indexOf("?")
    const path = queryAt < 0 ? request.url : request.url.slice(0, queryAt)
    if (UNTRACED.has(path)) return app
    const method = methodLabel(request.method)
    const route = fiber.getFiberRef(CurrentRoute)?.handler.template
    return Effect.useSpan(route === undefined ? method : `${method} ${route}`, {
      parent: Option.getOrUndefined(HttpTraceContext.fromHeaders(request.headers)),
      kind: "server",
      captureStackTrace: false
    }, (span) => {
      span.attribute("http.request.method", request.method)
      span.attribute("url.path", path)
      if (queryAt >= 0 && queryAt < request.url.length - 1) span.attribute("url.query", request.url.slice(queryAt + 1))
      if (route !== undefined) span.attribute("http.route", route)
      const requestId = fiber.getFiberRef(CurrentRequestId)
      if (requestId !== null) span.attribute("http.request.id", requestId)
      const userAgent = request.headers["user-agent"]
      if (userAgent !== undefined) span.attribute("user_agent.original", userAgent)
      if (Option.isSome(request.remoteAddress)) span.attribute("client.address", request.remoteAddress.value)
      const redacted = fiber.getFiberRef(Headers.currentRedactedNames)
      headerAttributes(span, "http.request.header", Headers.redact(request.headers, redacted))
      return Effect.onExit(Effect.withParentSpan(app, span), (exit) =>
        Effect.sync(() => {
          const response = HttpServerError.exitResponse(exit)
          span.attribute("http.response.status_code", response.status)
          headerAttributes(span, "http.response.header", Headers.redact(response.headers, redacted))
        }))
    })
  })

/**
 * Tracing of the HTTP application `app`. Off (`Option.none()`): no span is made anywhere, as if
 * no tracer existed. On: a server span per request, continued from an incoming W3C `traceparent`
 * (`serverSpan`, which the server applies then),
 * with a span per service operation and per database statement beneath it, exported over OTLP/HTTP;
 * the exporter is loaded only then.
 */
export const withTracing =
  (tracing: Option.Option<TracingOptions>) => <A, E, R>(app: Layer.Layer<A, E, R>): Layer.Layer<A, E, R> =>
    Option.match(tracing, {
      // Untraced, the server makes no span of its own (`serveNode`): only the tracer is switched off.
      onNone: () => app.pipe(Layer.provide(Layer.setTracerEnabled(false))),
      onSome: (options) =>
        app.pipe(
          Layer.provide(
            Layer.unwrapEffect(
              Effect.map(Effect.promise(() => import("./OtlpExport.js")), ({ otlpTracer }) => otlpTracer(options))
            )
          )
        )
    })
