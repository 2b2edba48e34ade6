import { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { type FieldError, validationError } from "@workflows/domain"
import { Cause, Effect, Option } from "effect"
import type { IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import { internalProblem, type ProblemBody, problemBody, routeNotFoundProblem } from "../api/Problem.js"
import { firstCode, isSqlError, transientCode } from "../service/TransientFailure.js"
import { recordDatabaseError } from "./HttpMetrics.js"
import { requestIdFrom } from "./RequestId.js"

const problemResponse = (body: ProblemBody) =>
  HttpServerResponse.unsafeJson(body, { status: body.status, contentType: "application/problem+json" })

/**
 * Header names as clients write them, for field names in errors. A `Map`: the field may be any
 * query parameter name, and a plain object would answer `constructor` with `Object`.
 */
const HEADER_NAMES: ReadonlyMap<string, string> = new Map([["if-match", "If-Match"], [
  "idempotency-key",
  "Idempotency-Key"
]])

/**
 * The framework's decode messages quote the rejected input; ours name the field and the rule only.
 * Only the schema's own "Expected …" part is kept.
 */
const issueMessage = (issue: HttpApiDecodeError["issues"][number]): string => {
  const expected = /^Expected ([\s\S]{1,200}?), actual /.exec(issue.message)?.[1]
  if (expected === "string") return "must be given once" // a repeated query parameter arrives as an array
  if (issue._tag === "Missing") return "is required"
  // Whatever its name: the dispatch decodes the prototype-free parsed query, so `__proto__` is unknown too.
  if (issue._tag === "Unexpected") return "is not a known parameter"
  return expected === undefined ? "is invalid" : `must be ${expected}`
}

const fieldErrors = (error: HttpApiDecodeError): ReadonlyArray<FieldError> => {
  const byField = new Map<string | null, FieldError>()
  for (const issue of error.issues) {
    const first = issue.path[0]
    const field = first === undefined ? null : (HEADER_NAMES.get(String(first)) ?? String(first))
    // An optional value fails once per union member: report it once.
    if (!byField.has(field)) byField.set(field, { field, message: issueMessage(issue) })
  }
  return [...byField.values()]
}

const unavailable = (response: HttpServerResponse.HttpServerResponse) =>
  HttpServerResponse.setHeader(response, "retry-after", "1")

/**
 * The answer to a request that failed. Every response the framework would write in its own shape
 * becomes a problem document: decode failures (400), unknown routes and methods (404), and
 * defects (500, details to the log only). A defect that is the database being unavailable is a
 * 503 with `Retry-After`, which clients and load balancers retry; a 500 says the request itself
 * hit a bug. Typed endpoint errors, a decode failure's validation error among them, are encoded
 * by `encode` (their declared problem schemas). An interruption is left to the server.
 */
export const problemFor = (
  cause: Cause.Cause<unknown>,
  encode: (error: unknown) => Effect.Effect<HttpServerResponse.HttpServerResponse>
): Effect.Effect<HttpServerResponse.HttpServerResponse, unknown> => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error: unknown = failure.value
    if (error instanceof HttpApiDecodeError) {
      const errors = fieldErrors(error)
      return encode(
        validationError(
          errors.length > 0 ? [errors[0]!, ...errors.slice(1)] : [{ field: null, message: "the request is invalid" }]
        )
      )
    }
    if (HttpServerError.isServerError(error) && error._tag === "RouteNotFound") {
      return Effect.succeed(problemResponse(routeNotFoundProblem))
    }
    return encode(error)
  }
  if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
  const defect = Cause.squash(cause)
  const transient = transientCode(defect)
  if (transient !== undefined) {
    recordDatabaseError("transient", transient)
    return Effect.as(
      Effect.logWarning("request failed: the database is unavailable", cause),
      unavailable(problemResponse(internalProblem(503, "The database is unavailable right now; retry shortly.")))
    )
  }
  if (isSqlError(defect)) recordDatabaseError("other", firstCode(defect))
  return Effect.as(
    Effect.logError("request failed with a defect", cause),
    problemResponse(internalProblem(500, "The server failed to handle this request; it has been logged."))
  )
}

/** A problem document written straight onto a connection the application never sees, which then closes. */
const answerOnSocket = (
  socket: Duplex,
  status: number,
  reason: string,
  problem: ProblemBody & { readonly errors?: ReadonlyArray<FieldError> },
  requestId: string
) => {
  const body = JSON.stringify(problem)
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/problem+json\r\nContent-Length: ${
      Buffer.byteLength(body)
    }\r\n` +
      `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`
  )
}

/**
 * Requests Node's parser rejects (a lying Content-Length, broken chunking, oversized headers, a
 * stalled upload) never reach the application; Node's own answer is a bare 400. Ours is a problem
 * document like every other error, then the connection closes.
 */
export const answerMalformedRequest = (error: Error & { readonly code?: string }, socket: Duplex) => {
  if (!socket.writable || error.code === "ECONNRESET") return socket.destroy()
  const [status, reason, detail] = error.code === "HPE_HEADER_OVERFLOW"
    ? [431, "Request Header Fields Too Large", "The request's headers are too large."]
    : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
    ? [408, "Request Timeout", "The request was not received in time."]
    : [400, "Bad Request", "The request is not valid HTTP/1.1."]
  const problem = {
    ...problemBody(status, "validation_failed", "Malformed request", detail),
    errors: [{ field: null, message: detail }]
  }
  answerOnSocket(socket, status, reason, problem, requestIdFrom(undefined))
}

/**
 * `CONNECT` (a tunnel request) goes to Node's `connect` event instead of the application, and
 * without a listener Node drops the connection. No route takes it: the same 404 as a wrong method.
 */
export const answerConnect = (request: IncomingMessage, socket: Duplex) => {
  if (!socket.writable) return socket.destroy()
  const sent = request.headers["x-request-id"]
  answerOnSocket(
    socket,
    404,
    "Not Found",
    routeNotFoundProblem,
    requestIdFrom(typeof sent === "string" ? sent : undefined)
  )
}
