import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import {
  Cause,
  Clock,
  Context,
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
 * tagged.
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
