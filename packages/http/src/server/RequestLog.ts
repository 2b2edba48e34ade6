import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, FiberRef, HashMap } from "effect"
import { CurrentRequestId, requestIdFrom } from "./RequestId.js"

/** The status the framework gives a request whose client hung up before it was answered (nginx's convention). */
const CLIENT_ABORT = 499

const annotate = (annotations: ReadonlyArray<readonly [string, unknown]>) =>
  FiberRef.update(FiberRef.currentLogAnnotations, (current) =>
    annotations.reduce((map, [key, value]) => HashMap.set(map, key, value), current))

/**
 * One log line per request (method, path, status, duration, request id) and `X-Request-Id` on
 * every response. It wraps an app that answers every request itself (its failures already turned
 * into problem responses), so the response passes through here before it is written: the header
 * goes straight onto it, with no pre-response hook (a fiber-ref write per request) to register.
 *
 * The server runs each request on a fiber of its own that ends with it, so the request id and
 * log annotations are set on that fiber outright instead of scoped with `Effect.locally` /
 * `Effect.annotateLogs`: nothing runs on the fiber afterwards to see them, and the scoped forms
 * cost more than routing the request (docs/DECISIONS.md).
 */
export const requestLog = <R>(app: HttpApp.Default<never, R>): HttpApp.Default<never, R> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const requestId = requestIdFrom(request.headers["x-request-id"])
    const started = performance.now()
    let status = 0
    const logLine = Effect.suspend(() =>
      Effect.zipRight(
        annotate([["status", status], ["duration_ms", Math.round((performance.now() - started) * 10) / 10]]),
        Effect.logInfo(`${request.method} ${request.url} ${status}${status === CLIENT_ABORT ? " (client abort, no response)" : ""}`)
      )
    )
    const tagged = Effect.map(app, (response) => {
      status = response.status
      return HttpServerResponse.setHeader(response, "x-request-id", requestId)
    })
    return Effect.zipRight(
      Effect.zipRight(FiberRef.set(CurrentRequestId, requestId), annotate([["request_id", requestId]])),
      Effect.ensuring(tagged, logLine)
    )
  })
