import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, FiberRef, HashMap } from "effect"
import { recordRequest } from "./HttpMetrics.js"
import { CurrentRequestId, requestIdFrom } from "./RequestId.js"

/** The status the framework gives a request whose client hung up before it was answered (nginx's convention). */
const CLIENT_ABORT = 499

const annotate = (annotations: ReadonlyArray<readonly [string, unknown]>) =>
  FiberRef.update(
    FiberRef.currentLogAnnotations,
    (current) => annotations.reduce((map, [key, value]) => HashMap.set(map, key, value), current)
  )

/**
 * One log line per request (method, path, status, duration, request id), `X-Request-Id` on
 * every response, and the request counted in the metrics. It wraps the app, so an answer passes
 * through here before it is written and the header goes straight onto it. Only when the app ends without one (interrupted: the client went,
 * or the server is stopping) does the server write a response of its own (499, 503); for that
 * case alone a pre-response hook is registered (a fiber-ref write each request would cost).
 *
 * The server runs each request on a fiber of its own that ends with it, so the request id and
 * log annotations are set on that fiber outright instead of scoped with `Effect.locally` /
 * `Effect.annotateLogs`: nothing runs on the fiber afterwards to see them, and the scoped forms
 * cost more than routing the request (docs/DECISIONS.md).
 */
export const requestLog = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const requestId = requestIdFrom(request.headers["x-request-id"])
    const started = performance.now()
    let status = 0
    const logLine = Effect.suspend(() => {
      const elapsed = performance.now() - started
      recordRequest(request.method, request.url, status, elapsed / 1000)
      return Effect.zipRight(
        annotate([["status", status], ["duration_ms", Math.round(elapsed * 10) / 10]]),
        Effect.logInfo(
          `${request.method} ${request.url} ${status}${status === CLIENT_ABORT ? " (client abort, no response)" : ""}`
        )
      )
    })
    const tag = (response: HttpServerResponse.HttpServerResponse) => {
      status = response.status
      return HttpServerResponse.setHeader(response, "x-request-id", requestId)
    }
    // Failed: the line is written before the server's own answer, so its status is worked out here.
    const tagged = Effect.onExit(Effect.map(app, tag), (exit) =>
      exit._tag === "Success"
        ? Effect.void
        : Effect.zipRight(
          HttpApp.appendPreResponseHandler((_request, response) => Effect.succeed(tag(response))),
          Effect.map(HttpServerError.causeResponse(exit.cause), ([response]) => {
            status = response.status
          })
        ))
    return Effect.zipRight(
      Effect.zipRight(FiberRef.set(CurrentRequestId, requestId), annotate([["request_id", requestId]])),
      Effect.ensuring(tagged, logLine)
    )
  })
