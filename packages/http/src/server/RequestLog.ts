import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import {
  Cause,
  Clock,
  Context,
  Effect,
  type Fiber,
  type FiberId,
  FiberRef,
  FiberRefs,
  HashMap,
  Inspectable,
  type Logger,
  LogLevel
} from "effect"
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
 * Writes one line at `level` to the fiber's loggers as `Effect.log` does, with `annotations` in
 * place of the fiber's own: loggers see a line annotated like any other, and the fiber's
 * annotations stay as they were (no copy of its fiber-ref map, no hash of either annotation map).
 */
const logAnnotated = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  level: LogLevel.LogLevel,
  message: string,
  annotations: HashMap.HashMap<string, unknown>
): void => {
  if (LogLevel.greaterThan(fiber.getFiberRef(FiberRef.currentMinimumLogLevel), level)) return
  const context = fiber.getFiberRefs()
  const options: Logger.Logger.Options<unknown> = {
    fiberId: fiber.id(),
    logLevel: level,
    message: [message],
    cause: Cause.empty,
    context,
    spans: fiber.getFiberRef(FiberRef.currentLogSpan),
    annotations,
    date: new Date(Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis())
  }
  Inspectable.withRedactableContext(context, () => {
    for (const logger of fiber.getFiberRef(FiberRef.currentLoggers)) logger.log(options)
  })
}

/** The request's line (and its metrics), once its status is known; `started` is `performance.now()` at its start. */
const writeLine = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  request: HttpServerRequest.HttpServerRequest,
  started: number,
  status: number
): void => {
  const elapsed = performance.now() - started
  const route = fiber.getFiberRef(CurrentRoute)?.handler.template ?? UNMATCHED_ROUTE
  recordRequest(request.method, route, status, elapsed / 1000)
  const annotations = fiber.getFiberRef(FiberRef.currentLogAnnotations).pipe(
    HashMap.set<string, unknown>("status", status),
    HashMap.set<string, unknown>("duration_ms", Math.round(elapsed * 10) / 10)
  )
  const abort = status === CLIENT_ABORT ? " (client abort, no response)" : ""
  logAnnotated(fiber, LogLevel.Info, `${request.method} ${request.url} ${status}${abort}`, annotations)
}

const tag = (fiber: Fiber.RuntimeFiber<unknown, unknown>, response: HttpServerResponse.HttpServerResponse) =>
  HttpServerResponse.setHeader(
    response,
    "x-request-id",
    fiber.getFiberRef(CurrentRequestId) ?? requestIdFrom(undefined)
  )

/**
 * The request log as `serveNode` calls it, on the request's fiber, with the response about to be
 * written (the app's, or the server's own 499 or 503): the line is written and the response
 * tagged, without the three steps the `requestLog` wrapper costs.
 */
export const logResponse = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  request: HttpServerRequest.HttpServerRequest,
  started: number,
  response: HttpServerResponse.HttpServerResponse
): HttpServerResponse.HttpServerResponse => {
  writeLine(fiber, request, started, response.status)
  return tag(fiber, response)
}

/**
 * One log line per request (method, path, status, duration, request id), `X-Request-Id` on
 * every response, and the request counted in the metrics, for the platform's server (tracing on;
 * `serveNode` calls `logResponse` itself). It wraps the app, so an answer passes through here
 * before it is written and the header goes straight onto it. Only when the app ends without one
 * (interrupted: the client went, or the server is stopping) does the server write a response of
 * its own (499, 503); for that case alone a pre-response hook is registered (a fiber-ref write
 * each request would cost).
 *
 * The request id, its log annotation and the route are on the fiber already
 * (`requestFiberRefs`). The status and duration are annotations of the request's line alone,
 * handed to the loggers with it (`logAnnotated`): nothing else on the fiber logs after it. Both
 * servers run a request uninterruptibly outside its handlers, so the line is written however
 * the app ends without the masking `Effect.onExit` would add.
 */
export const requestLog = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.withFiberRuntime((fiber) => {
    const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
    const started = performance.now()
    return Effect.matchCauseEffect(app, {
      onSuccess: (response) => Effect.succeed(logResponse(fiber, request, started, response)),
      // The line is written before the server's own answer, so its status is worked out here.
      onFailure: (cause) =>
        Effect.flatMap(HttpServerError.causeResponse(cause), ([response]) => {
          writeLine(fiber, request, started, response.status)
          return Effect.zipRight(
            HttpApp.appendPreResponseHandler((_request, response) => Effect.succeed(tag(fiber, response))),
            Effect.failCause(cause)
          )
        })
    })
  })
