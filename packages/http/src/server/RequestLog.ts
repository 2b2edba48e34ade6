import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Context, Effect, type FiberId, FiberRef, FiberRefs, HashMap } from "effect"
import { recordRequest } from "./HttpMetrics.js"
import { CurrentRequestId, requestIdFrom } from "./RequestId.js"
import { CurrentRoute, matchRoute, UNMATCHED_ROUTE } from "./RouteTemplates.js"

/** The status the framework gives a request whose client hung up before it was answered (nginx's convention). */
const CLIENT_ABORT = 499

/** What the edge knows of a request before it runs: its id and its route (looked up once, here). */
const facts = (request: HttpServerRequest.HttpServerRequest) => ({
  requestId: requestIdFrom(request.headers["x-request-id"]),
  route: matchRoute(request.method, request.url)
})

/**
 * The request's fiber refs, set as its fiber is forked (`serveNode`): the request id (for the
 * audit trail and the span), the `request_id` log annotation and the route. Set there, they cost
 * one copy of the fiber-ref map for all three instead of one per `FiberRef.set`.
 */
export const requestFiberRefs = (
  request: HttpServerRequest.HttpServerRequest,
  fiberRefs: FiberRefs.FiberRefs,
  fiberId: FiberId.Runtime
): FiberRefs.FiberRefs => {
  const { requestId, route } = facts(request)
  const annotations = FiberRefs.getOrDefault(fiberRefs, FiberRef.currentLogAnnotations)
  return FiberRefs.updateManyAs(fiberRefs, {
    entries: [
      [CurrentRequestId, [[fiberId, requestId]]],
      [FiberRef.currentLogAnnotations, [[fiberId, HashMap.set(annotations, "request_id", requestId)]]],
      [CurrentRoute, [[fiberId, route]]]
    ]
  })
}

/** The same fiber refs for a request served by the platform's server (tracing on), set as it starts. */
export const withRequestFiberRefs = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const { requestId, route } = facts(request)
    return Effect.zipRight(
      Effect.all([
        FiberRef.set(CurrentRequestId, requestId),
        FiberRef.update(FiberRef.currentLogAnnotations, HashMap.set<string, unknown>("request_id", requestId)),
        FiberRef.set(CurrentRoute, route)
      ], { discard: true }),
      app
    )
  })

/**
 * One log line per request (method, path, status, duration, request id), `X-Request-Id` on
 * every response, and the request counted in the metrics. It wraps the app, so an answer passes
 * through here before it is written and the header goes straight onto it. Only when the app ends
 * without one (interrupted: the client went, or the server is stopping) does the server write a
 * response of its own (499, 503); for that case alone a pre-response hook is registered (a
 * fiber-ref write each request would cost).
 *
 * The request id, its log annotation and the route are on the fiber already
 * (`requestFiberRefs`). The request's fiber ends with it, so the status and duration are
 * annotated on it outright instead of scoped with `Effect.annotateLogs`: nothing runs on the
 * fiber afterwards to see them, and the scoped form costs two more copies of the fiber-ref map.
 */
export const requestLog = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.withFiberRuntime((fiber) => {
    const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
    const requestId = fiber.getFiberRef(CurrentRequestId) ?? requestIdFrom(undefined)
    const route = fiber.getFiberRef(CurrentRoute)?.handler.template ?? UNMATCHED_ROUTE
    const started = performance.now()
    let status = 0
    const logLine = () => {
      const elapsed = performance.now() - started
      recordRequest(request.method, route, status, elapsed / 1000)
      return Effect.zipRight(
        FiberRef.update(
          FiberRef.currentLogAnnotations,
          (annotations) =>
            HashMap.set(HashMap.set(annotations, "status", status), "duration_ms", Math.round(elapsed * 10) / 10)
        ),
        Effect.logInfo(
          `${request.method} ${request.url} ${status}${status === CLIENT_ABORT ? " (client abort, no response)" : ""}`
        )
      )
    }
    const tag = (response: HttpServerResponse.HttpServerResponse) => {
      status = response.status
      return HttpServerResponse.setHeader(response, "x-request-id", requestId)
    }
    // Failed: the line is written before the server's own answer, so its status is worked out here.
    return Effect.onExit(Effect.map(app, tag), (exit) =>
      exit._tag === "Success"
        ? logLine()
        : Effect.zipRight(
          HttpApp.appendPreResponseHandler((_request, response) => Effect.succeed(tag(response))),
          Effect.flatMap(HttpServerError.causeResponse(exit.cause), ([response]) => {
            status = response.status
            return logLine()
          })
        ))
  })
