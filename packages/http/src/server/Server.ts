import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as OpenApi from "@effect/platform/OpenApi"
import { Console, Context, Effect, Layer, Option, Scope } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { Duplex } from "node:stream"
import { WorkflowsApi } from "../api/WorkflowsApi.js"
import { WorkflowStore } from "../service/WorkflowStore.js"
import { ApiKeys } from "../storage/ApiKeys.js"
import { type Database, describeDatabase, layer } from "../storage/Sql.js"
import { makeApiApp } from "./ApiDispatch.js"
import { AuthenticationLive } from "./Authentication.js"
import { NodeListener, serveNode } from "./NodeServe.js"
import { answerConnect, answerMalformedRequest, problemFor } from "./ProblemMiddleware.js"
import { logResponse, requestFiberRefs } from "./RequestLog.js"
import { DOCS_PATH, OPENAPI_PATH } from "./RouteTemplates.js"
import { ServerLog } from "./ServerLog.js"
import { serverSpan, TracingConfig, type TracingOptions, withTracing } from "./Tracing.js"
import { SystemHandlers, WorkflowsHandlers } from "./WorkflowsHttp.js"

/**
 * `/docs`, whose page is built on its first request rather than at start-up. Its router asks for
 * a scope per request, which no other route needs: it gets one of its own.
 */
const docsRoute = Effect.gen(function*() {
  const scope = yield* Effect.scope
  const page = yield* Effect.cached(
    Effect.promise(() => import("./DocsPage.js")).pipe(Effect.flatMap(({ docsApp }) => Scope.extend(docsApp, scope)))
  )
  return Effect.scoped(Effect.flatten(page))
})

/**
 * The whole HTTP application over a database client: routes, problem bodies, request log and
 * metrics, `/openapi.json` and `/docs` (Swagger UI with its assets inlined, so it works offline).
 * `database` is what the client was made for; `/readyz` names only its kind. Spans are exported
 * only when `tracing` says where to. Each request's line goes to whatever loggers are installed,
 * with `request_id`, `status` and `duration_ms` annotations; its other lines carry `request_id`.
 */
export const HttpAppLive = (database: Database, tracing: Option.Option<TracingOptions> = Option.none()) =>
  Layer.scopedDiscard(
    Effect.gen(function*() {
      const openApi = HttpServerResponse.unsafeJson(OpenApi.fromApi(WorkflowsApi))
      const app = yield* makeApiApp({
        handlers: { workflows: yield* WorkflowsHandlers, system: yield* SystemHandlers(database) },
        extraRoutes: [[OPENAPI_PATH, Effect.succeed(openApi)], [DOCS_PATH, yield* docsRoute]],
        problems: problemFor
      })
      // Traced or not, one server; traced, each request is wrapped in its server span (with tracing
      // off, nothing is added per request).
      yield* serveNode(Option.isSome(tracing) ? serverSpan(app) : app, {
        updateRefs: requestFiberRefs,
        onResponse: logResponse
      })
    })
  ).pipe(
    Layer.provide(AuthenticationLive),
    // Off unless an exporter is configured: a span per request and per SQL statement costs more
    // than the statements, and nothing would read them.
    withTracing(tracing)
  )

export interface ListenOptions {
  readonly port: number
  readonly host: string
}

/**
 * A Node HTTP server with timeouts that bound slow or stalled clients, as the platform's
 * `HttpServer` (its address) and as the `NodeListener` that `HttpAppLive` serves on; closing its
 * layer stops accepting connections and lets in-flight requests finish.
 */
export const NodeServerLive = (options: ListenOptions) =>
  Layer.scopedContext(Effect.gen(function*() {
    const server = nodeServer()
    const http = yield* NodeHttpServer.make(() => server, { port: options.port, host: options.host })
    return Context.make(HttpServer.HttpServer, http).pipe(Context.add(NodeListener, server))
  })).pipe(Layer.merge(NodeHttpServer.layerContext))

const nodeServer = () => {
  const server = createServer()
  server.requestTimeout = 30_000
  server.headersTimeout = 15_000
  server.keepAliveTimeout = 5_000
  // Each connection's latest request, so that a parse error in the bytes after it is answered
  // only once that request's response is out (pipelined clients read responses in order).
  const latest = new WeakMap<Duplex, { readonly request: IncomingMessage; readonly response: ServerResponse }>()
  server.on(
    "request",
    (request: IncomingMessage, response: ServerResponse) => latest.set(request.socket, { request, response })
  )
  // Requests Node's parser rejects get a problem document too, not Node's bare 400.
  server.on("clientError", (error: Error, socket: Duplex) => {
    const last = latest.get(socket)
    // A request still receiving its body is the one that is malformed: it gets no response of its own.
    if (last === undefined || !last.request.complete || last.response.writableFinished || last.response.destroyed) {
      return answerMalformedRequest(error, socket)
    }
    last.response.once("close", () => answerMalformedRequest(error, socket))
  })
  server.on("connect", answerConnect)
  return server
}

/**
 * First start: an organization and a key so the server is usable at once (printed once, never
 * stored in plaintext). Then the one line that says where everything is.
 */
const announce = (options: ListenOptions & { readonly database: string }) =>
  Effect.gen(function*() {
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

/**
 * Everything `workflows serve` runs: migrate, bootstrap, listen, log in batches, export spans when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set; closing it shuts down gracefully (and writes the last log
 * lines and spans).
 */
export const ServerLive = (options: ListenOptions & { readonly database: Database }) => {
  const display = describeDatabase(options.database)
  // The tracing variables are read first: a mistake in them stops the start before anything listens.
  return Layer.unwrapEffect(
    Effect.map(TracingConfig, (tracing) =>
      Layer.mergeAll(
        HttpAppLive(options.database, tracing),
        Layer.effectDiscard(announce({ ...options, database: display }))
      ).pipe(
        Layer.provide(NodeServerLive(options)),
        Layer.provide(Layer.mergeAll(WorkflowStore.Default, ApiKeys.Default)),
        Layer.provide(layer(options.database)),
        Layer.provide(ServerLog)
      ))
  )
}
