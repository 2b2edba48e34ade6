import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, FiberRef, HashMap } from "effect"
import { recordRequest } from "./HttpMetrics.js"
import { CurrentRequestId, requestIdFrom } from "./RequestId.js"

/** The status the framework gives a request whose client hung up before it was answered (nginx's convention). */
const CLIENT_ABORT = 499

const annotate = (annotations: ReadonlyArray<readonly [string, unknown]>) =>
  FiberRef.update(FiberRef.currentLogAnnotations, (current) =>
    annotations.reduce((map, [key, value]) => HashMap.set(map, key, value), current))

/**
 * One log line per request (method, path, status, duration, request id), `X-Request-Id` on
 * every response, and the request counted in the metrics. The response is written by the time
 * `app` returns, hence the pre-response hook.
 *
 * The server runs each request on a fiber of its own that ends with it, so the request id and
 * log annotations are set on that fiber outright instead of scoped with `Effect.locally` /
 * `Effect.annotateLogs`: nothing runs on the fiber afterwards to see them, and the scoped forms
 * cost more than routing the request (docs/DECISIONS.md).
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
    const logLine = Effect.suspend(() => {
      const elapsed = performance.now() - started
      recordRequest(request.method, request.url, status, elapsed / 1000)
      return Effect.zipRight(
        annotate([["status", status], ["duration_ms", Math.round(elapsed * 10) / 10]]),
        Effect.logInfo(`${request.method} ${request.url} ${status}${status === CLIENT_ABORT ? " (client abort, no response)" : ""}`)
      )
    })
    return Effect.zipRight(
      Effect.all([tagResponse, FiberRef.set(CurrentRequestId, requestId), annotate([["request_id", requestId]])], { discard: true }),
      Effect.ensuring(app, logLine)
    )
  })
