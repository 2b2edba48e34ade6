import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Config, Context, Duration, Effect, Layer, Option, Tracer } from "effect"
import { CurrentRequestId } from "./RequestId.js"
import { CurrentRoute, matchRoute, methodLabel } from "./RouteTemplates.js"

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
const untraced = (request: HttpServerRequest.HttpServerRequest) => UNTRACED.has(request.url)

/**
 * `PATCH /v1/workflows/{id}`; only the method when no route matches (the HTTP semantic conventions' rule).
 * The span is named before the edge sees the request, so its route is looked up here too.
 */
const spanName = (request: HttpServerRequest.HttpServerRequest) => {
  const method = methodLabel(request.method)
  const found = matchRoute(request.method, request.url)
  return found === undefined ? method : `${method} ${found.handler.template}`
}

/**
 * What the framework's server span lacks: the route as the API document writes it (the router
 * records its own `/v1/workflows/:id` form while routing, so this is set once the request is
 * answered) and the request id that the log line and the audit trail carry.
 */
export const serverSpanAttributes = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.withFiberRuntime((fiber) => {
    const span = Context.getOption(fiber.currentContext, Tracer.ParentSpan)
    if (Option.isNone(span) || span.value._tag !== "Span") return app
    const server = span.value
    const requestId = fiber.getFiberRef(CurrentRequestId)
    if (requestId !== null) server.attribute("http.request.id", requestId)
    const found = fiber.getFiberRef(CurrentRoute)
    return found === undefined
      ? app
      : Effect.ensuring(app, Effect.sync(() => server.attribute("http.route", found.handler.template)))
  })

/**
 * Tracing of the HTTP application `app`. Off (`Option.none()`): no span is made anywhere, as if
 * no tracer existed. On: a server span per request, continued from an incoming W3C `traceparent`
 * (its route and request id set by `serverSpanAttributes`, which the server applies then),
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
          HttpMiddleware.withTracerDisabledWhen(untraced),
          HttpMiddleware.withSpanNameGenerator(spanName),
          Layer.provide(
            Layer.unwrapEffect(
              Effect.map(Effect.promise(() => import("./OtlpExport.js")), ({ otlpTracer }) => otlpTracer(options))
            )
          )
        )
    })
