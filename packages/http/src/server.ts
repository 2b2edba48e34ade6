import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import * as HttpApiSwagger from "@effect/platform/HttpApiSwagger"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { type FieldError, validationError } from "@workflows/domain"
import { Cause, Console, Effect, Layer, Option } from "effect"
import { createServer } from "node:http"
import type { Duplex } from "node:stream"
import { ApiKeys } from "./ApiKeys.js"
import { AuthenticationLive } from "./Authentication.js"
import { internalProblem, type ProblemBody, problemBody, routeNotFoundProblem } from "./Problem.js"
import { CurrentRequestId, requestIdFrom } from "./RequestId.js"
import { type Database, describeDatabase, layer } from "./Sql.js"
import { WorkflowStore } from "./WorkflowStore.js"
import { WorkflowsApi } from "./WorkflowsApi.js"
import { SystemHttpLive, WorkflowsHttpLive } from "./WorkflowsHttp.js"

const problemResponse = (body: ProblemBody) =>
  HttpServerResponse.unsafeJson(body, { status: body.status, contentType: "application/problem+json" })

/** Header names as clients write them, for field names in errors. */
const HEADER_NAMES: Record<string, string> = { "if-match": "If-Match", "idempotency-key": "Idempotency-Key" }

/**
 * The framework's decode messages quote the rejected input; ours name the field and the rule only.
 * Only the schema's own "Expected …" part is kept.
 */
const fieldErrors = (error: HttpApiDecodeError): ReadonlyArray<FieldError> => {
  const byField = new Map<string | null, FieldError>()
  for (const issue of error.issues) {
    const first = issue.path[0]
    const field = first === undefined ? null : (HEADER_NAMES[String(first)] ?? String(first))
    if (byField.has(field)) continue // an optional value fails once per union member: report it once
    const expected = /^Expected ([\s\S]{1,200}?), actual /.exec(issue.message)?.[1]
    // A query parameter given twice arrives as an array where a string is expected.
    const message = expected === "string" ? "must be given once" : issue._tag === "Missing" ? "is required" : issue._tag === "Unexpected" ? "is not a known parameter" : expected !== undefined ? `must be ${expected}` : "is invalid"
    byField.set(field, { field, message })
  }
  return [...byField.values()]
}

/**
 * Every response the framework would write in its own shape becomes a problem document:
 * decode failures (400), unknown routes and methods (404), and defects (500, details to the log only).
 * Typed endpoint errors pass through to be encoded by their declared problem schemas.
 */
const ProblemMiddleware = HttpApiBuilder.middleware(WorkflowsApi, (app) =>
  Effect.catchAllCause(app, (cause) =>
    Effect.gen(function* () {
      const failure = Cause.failureOption(cause)
      if (Option.isSome(failure)) {
        const error: unknown = failure.value
        if (error instanceof HttpApiDecodeError) {
          const errors = fieldErrors(error)
          return yield* Effect.fail(validationError(errors.length > 0 ? [errors[0]!, ...errors.slice(1)] : [{ field: null, message: "the request is invalid" }]))
        }
        if (HttpServerError.isServerError(error) && error._tag === "RouteNotFound") return problemResponse(routeNotFoundProblem)
        return yield* Effect.failCause(cause)
      }
      if (Cause.isInterruptedOnly(cause)) return yield* Effect.failCause(cause)
      yield* Effect.logError("request failed with a defect", cause)
      return problemResponse(internalProblem(500, "The server failed to handle this request; it has been logged."))
    })
  )
)

/**
 * One log line per request (method, path, status, duration, request id) and `X-Request-Id` on
 * every response. The response is written by the time `app` returns, hence the pre-response hook.
 */
const requestLog = (app: HttpApp.Default): HttpApp.Default =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const requestId = requestIdFrom(request.headers["x-request-id"])
    const started = performance.now()
    let status = 0
    yield* HttpApp.appendPreResponseHandler((_request, response) => {
      status = response.status
      return Effect.succeed(HttpServerResponse.setHeader(response, "x-request-id", requestId))
    })
    return yield* app.pipe(
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
  })

const ApiLive = (database: string) =>
  HttpApiBuilder.api(WorkflowsApi).pipe(
    Layer.provide([WorkflowsHttpLive, SystemHttpLive(database)]),
    Layer.provide(AuthenticationLive)
  )

/**
 * The whole HTTP application over a database client: routes, problem bodies, request log,
 * `/openapi.json` and `/docs` (Swagger UI with its assets inlined, so it works offline).
 */
export const HttpAppLive = (database: string) =>
  HttpApiBuilder.serve(requestLog).pipe(
    Layer.provide(HttpApiSwagger.layer({ path: "/docs" })),
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
    Layer.provide(ProblemMiddleware),
    Layer.provide(ApiLive(database)),
    HttpMiddleware.withTracerDisabledWhen(() => true),
    // The router's default 100-character limit on a path parameter would answer a long `{id}` with
    // "no route" (and before authentication); let it through, so it gets the missing workflow's 404.
    Layer.provide(HttpRouter.setRouterConfig({ maxParamLength: 8 * 1024 }))
  )

export interface ListenOptions {
  readonly port: number
  readonly host: string
}

/**
 * A Node HTTP server with timeouts that bound slow or stalled clients; closing its layer stops
 * accepting connections and lets in-flight requests finish.
 */
export const NodeServerLive = (options: ListenOptions) =>
  NodeHttpServer.layer(() => {
    const server = createServer()
    server.requestTimeout = 30_000
    server.headersTimeout = 15_000
    server.keepAliveTimeout = 5_000
    server.on("clientError", answerMalformedRequest)
    return server
  }, { port: options.port, host: options.host })

/**
 * Requests Node's parser rejects (a lying Content-Length, broken chunking, oversized headers, a
 * stalled upload) never reach the application; Node's own answer is a bare 400. Ours is a problem
 * document like every other error, then the connection closes.
 */
const answerMalformedRequest = (error: Error & { readonly code?: string }, socket: Duplex) => {
  if (!socket.writable || error.code === "ECONNRESET") return socket.destroy()
  const [status, reason, detail] = error.code === "HPE_HEADER_OVERFLOW"
    ? [431, "Request Header Fields Too Large", "The request's headers are too large."]
    : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
    ? [408, "Request Timeout", "The request was not received in time."]
    : [400, "Bad Request", "The request is not valid HTTP/1.1."]
  const body = JSON.stringify({ ...problemBody(status, "validation_failed", "Malformed request", detail), errors: [{ field: null, message: detail }] })
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestIdFrom(undefined)}\r\nConnection: close\r\n\r\n${body}`
  )
}

/**
 * First start: an organization and a key so the server is usable at once (printed once, never
 * stored in plaintext). Then the one line that says where everything is.
 */
const announce = (options: ListenOptions & { readonly database: string }) =>
  Effect.gen(function* () {
    const bootstrapped = yield* Effect.flatMap(ApiKeys, (keys) => keys.bootstrap)
    if (Option.isSome(bootstrapped)) {
      const key = bootstrapped.value
      yield* Console.log(
        `No API keys yet: created organization ${key.organization_id} and key ${key.id}. Store it now, it is shown only once:\n\n  ${key.key}\n`
      )
    }
    const address = yield* HttpServer.addressFormattedWith((url) => Effect.succeed(url))
    yield* Console.log(`workflows listening on ${address}  docs: ${address}/docs  database: ${options.database}`)
  })

/** Everything `workflows serve` runs: migrate, bootstrap, listen; closing it shuts down gracefully. */
export const ServerLive = (options: ListenOptions & { readonly database: Database }) => {
  const display = describeDatabase(options.database)
  return Layer.mergeAll(HttpAppLive(display), Layer.effectDiscard(announce({ ...options, database: display }))).pipe(
    Layer.provide(NodeServerLive(options)),
    Layer.provide(Layer.mergeAll(WorkflowStore.Default, ApiKeys.Default)),
    Layer.provide(layer(options.database))
  )
}
