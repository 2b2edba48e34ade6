import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import * as OtlpTracer from "@effect/opentelemetry/OtlpTracer"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Layer } from "effect"
import type { TracingOptions } from "./Tracing.js"

/**
 * Effect's own OTLP/HTTP span exporter: spans are batched and posted with the platform's HTTP
 * client (Node's `fetch`), with no OpenTelemetry SDK in the process. Loaded only when tracing is on.
 */
export const otlpTracer = (options: TracingOptions) =>
  OtlpTracer.layer({
    url: options.url,
    headers: options.headers,
    resource: { serviceName: options.serviceName, attributes: options.resourceAttributes },
    exportInterval: options.exportInterval
  }).pipe(
    Layer.provide(FetchHttpClient.layer),
    Layer.provide(options.protocol === "http/json" ? OtlpSerialization.layerJson : OtlpSerialization.layerProtobuf)
  )
