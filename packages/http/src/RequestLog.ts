import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect } from "effect"
import { CurrentRequestId, requestIdFrom } from "./RequestId.js"

/**
 * One log line per request (method, path, status, duration, request id) and `X-Request-Id` on
 * every response. The response is written by the time `app` returns, hence the pre-response hook.
 */
export const requestLog = (app: HttpApp.Default): HttpApp.Default =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const requestId = requestIdFrom(request.headers["x-request-id"])
    const started = performance.now()
    let status = 0
    const tagResponse = HttpApp.appendPreResponseHandler((_request, response) => {
      status = response.status
      return Effect.succeed(HttpServerResponse.setHeader(response, "x-request-id", requestId))
    })
    return Effect.zipRight(
      tagResponse,
      app.pipe(
        // Nothing exports traces, and a span per request and per SQL statement costs more than the
        // statements: tracing is off until a tracer is configured.
        Effect.withTracerEnabled(false),
        Effect.locally(CurrentRequestId, requestId),
        Effect.annotateLogs("request_id", requestId),
        Effect.ensuring(
          Effect.suspend(() =>
            Effect.logInfo(`${request.method} ${request.url} ${status}`).pipe(
              Effect.annotateLogs({ status, duration_ms: Math.round((performance.now() - started) * 10) / 10, request_id: requestId })
            )
          )
        )
      )
    )
  })
