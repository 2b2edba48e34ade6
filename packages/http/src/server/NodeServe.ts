import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Cookies from "@effect/platform/Cookies"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import {
  Cause,
  Context,
  Effect,
  type Fiber,
  type FiberId,
  type FiberRefs,
  Runtime,
  RuntimeFlags,
  type Scope
} from "effect"
import { IncomingMessage, type OutgoingHttpHeaders, type Server, ServerResponse } from "node:http"
import { Socket } from "node:net"

/** The `node:http` server the application is served on; `NodeServerLive` provides it. */
export class NodeListener extends Context.Tag("@workflows/http/NodeListener")<NodeListener, Server>() {}

type MakeRequest = (incoming: IncomingMessage, outgoing: ServerResponse) => HttpServerRequest.HttpServerRequest

/**
 * The platform's own `HttpServerRequest` for Node (body readers, multipart, cookies), whose
 * class is not exported: one synthetic request through `NodeHttpServer.makeHandler` at start-up
 * yields it. If a release changes its constructor, the server refuses to start.
 */
const platformRequest: Effect.Effect<MakeRequest> = Effect.gen(function*() {
  let sample: HttpServerRequest.HttpServerRequest | undefined
  const handler = yield* NodeHttpServer.makeHandler(
    Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
      sample = request
      return HttpServerResponse.empty()
    })
  )
  const incoming = new IncomingMessage(new Socket())
  incoming.method = "GET"
  incoming.url = "/probe"
  handler(incoming, new ServerResponse(incoming))
  yield* Effect.yieldNow()
  const Request = sample?.constructor as
    | (new(incoming: IncomingMessage, outgoing: ServerResponse) => HttpServerRequest.HttpServerRequest)
    | undefined
  if (Request === undefined) return yield* Effect.dieMessage("the platform's Node request could not be obtained")
  const probe = new ServerResponse(incoming)
  const made = new Request(incoming, probe)
  if (
    NodeHttpServerRequest.toIncomingMessage(made) !== incoming ||
    NodeHttpServerRequest.toServerResponse(made) !== probe || made.url !== "/probe" || made.method !== "GET"
  ) {
    return yield* Effect.dieMessage("the platform's Node request has an unexpected constructor")
  }
  return (incoming, outgoing) => new Request(incoming, outgoing)
})

/** Writes the answer as the platform's Node server does; bodies other than bytes are not produced by this app. */
const write = (
  request: HttpServerRequest.HttpServerRequest,
  response: HttpServerResponse.HttpServerResponse
): Effect.Effect<void> => {
  const outgoing = NodeHttpServerRequest.toServerResponse(request)
  if (outgoing.writableEnded) return Effect.void
  let headers: OutgoingHttpHeaders = response.headers
  if (!Cookies.isEmpty(response.cookies)) {
    const cookies = Cookies.toSetCookieHeaders(response.cookies)
    const existing = response.headers["set-cookie"]
    if (existing !== undefined) cookies.push(existing)
    headers = { ...headers, "set-cookie": cookies }
  }
  const body = response.body
  if (body._tag === "Stream" || body._tag === "FormData" || (body._tag === "Raw" && !isBytes(body.body))) {
    outgoing.writeHead(500)
    outgoing.end()
    return Effect.dieMessage(`response bodies of kind ${body._tag} are not supported by this server`)
  }
  outgoing.writeHead(response.status, headers)
  if (request.method === "HEAD" || body._tag === "Empty") outgoing.end()
  else outgoing.end(body.body)
  return Effect.void
}

const isBytes = (body: unknown): body is string | Uint8Array => typeof body === "string" || body instanceof Uint8Array

/** The pre-response handlers the request registered (rare: 401, 413, 415), then the write. */
const respond = (
  fiber: Fiber.RuntimeFiber<void, unknown>,
  request: HttpServerRequest.HttpServerRequest,
  response: HttpServerResponse.HttpServerResponse
): Effect.Effect<void> => {
  const handler = fiber.getFiberRef(HttpApp.currentPreResponseHandlers)
  if (handler._tag === "None") return write(request, response)
  return Effect.flatMap(Effect.orDie(handler.value(request, response)), (final) => write(request, final))
}

/** A failure the app did not answer (interrupted: the client went, or the server is stopping): 499 or 503. */
const respondToCause = (
  cause: Cause.Cause<unknown>,
  answer: (response: HttpServerResponse.HttpServerResponse) => Effect.Effect<void>
) =>
  Effect.flatMap(HttpServerError.causeResponse(cause), ([response, rest]) =>
    Effect.zipRight(
      answer(response),
      Cause.isEmptyType(rest) ? Effect.void : Effect.failCause(rest)
    ))

/** One request of a connection: its fiber once started, and what runs when it ends (the next request's start). */
interface Turn {
  fiber: Fiber.RuntimeFiber<void, unknown> | undefined
  ended: boolean
  aborted: boolean
  next: (() => void) | undefined
}

/**
 * Serves `app` on the Node server: each request runs on a fiber of its own, forked from the
 * layer's runtime (its fiber refs: loggers, log level, tracing switch) with `updateRefs` applied
 * and the request as its whole context, and its answer is written straight to the Node response.
 * Unlike the platform's `HttpServer.serve` there is no scope, no tracer middleware and no
 * error-handling layer per request: the app answers everything itself, and its type says it
 * needs nothing but the request (a route that needs a `Scope` gets its own), so no copy of the
 * layer's context is made per request. Outside the app's interruptible parts (the handlers), a
 * request runs uninterruptibly, as under the platform; a client that hangs up interrupts it as a
 * client abort. Requests pipelined on one connection run one after the other. Closing stops
 * taking requests and waits for those in flight or waiting their turn.
 */
export const serveNode = (
  app: HttpApp.Default<never>,
  options: {
    /**
     * The response about to be written (the app's, or the server's own 499 or 503), on the
     * request's fiber, `started` being `performance.now()` as the request arrived: the request log.
     */
    readonly onResponse?: (
      fiber: Fiber.RuntimeFiber<void, unknown>,
      request: HttpServerRequest.HttpServerRequest,
      started: number,
      response: HttpServerResponse.HttpServerResponse
    ) => HttpServerResponse.HttpServerResponse
    /** Fiber refs of the request's fiber, set as it is forked (one copy of the fiber-ref map, not one per `FiberRef.set`). */
    readonly updateRefs?: (
      request: HttpServerRequest.HttpServerRequest,
      fiberRefs: FiberRefs.FiberRefs,
      fiberId: FiberId.Runtime
    ) => FiberRefs.FiberRefs
  } = {}
): Effect.Effect<void, never, NodeListener | Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* NodeListener
    const makeRequest = yield* platformRequest
    const { fiberRefs, runtimeFlags } = yield* Effect.runtime<never>()
    // Forked uninterruptible, as `Effect.uninterruptible` would make it without its two steps.
    const uninterruptible = RuntimeFlags.disable(runtimeFlags, RuntimeFlags.Interruption)
    // Requests still being answered: a count, and the close waits for it to reach zero (no
    // collection of fibers to hash into and resize on every request).
    let inFlight = 0
    let drained: (() => void) | undefined
    const updateRefs = options.updateRefs
    const onResponse = options.onResponse
    // The last request each connection has sent. Requests pipelined on one connection run one after
    // the other: HTTP/1.1 lets a server run them at once only when all are safe, and one by one a GET
    // sent behind a PATCH reads what the PATCH wrote, on either database.
    const lastOf = new WeakMap<Socket, Turn>()

    /** Runs the request on a fiber of its own; `turn` ends when the fiber does. */
    const run = (request: HttpServerRequest.HttpServerRequest, started: number, turn: Turn) => {
      const context = Context.make(HttpServerRequest.HttpServerRequest, request)
      // The request and its fiber are at hand here: the answer is written without asking the fiber for them.
      const answer = onResponse === undefined
        ? (response: HttpServerResponse.HttpServerResponse) => respond(fiber, request, response)
        : (response: HttpServerResponse.HttpServerResponse) =>
          respond(fiber, request, onResponse(fiber, request, started, response))
      const handled = Effect.matchCauseEffect(app, {
        onSuccess: answer,
        onFailure: (cause) => respondToCause(cause, answer)
      })
      // Started on the scheduler rather than inside Node's parser callback: by then a body that came
      // with the headers is buffered, and is read without waiting for the stream's events.
      const fiber: Fiber.RuntimeFiber<void, unknown> = Runtime.runFork(
        Runtime.make({ context, fiberRefs, runtimeFlags: uninterruptible }),
        handled,
        {
          immediate: false,
          updateRefs: updateRefs === undefined ? undefined : (refs, fiberId) => updateRefs(request, refs, fiberId)
        }
      )
      turn.fiber = fiber
      fiber.addObserver(() => {
        // Ended, the turn holds nothing: the connection keeps it until its next request.
        const next = turn.next
        turn.ended = true
        turn.fiber = undefined
        turn.next = undefined
        if (next !== undefined) next()
        if (--inFlight === 0 && drained !== undefined) drained()
      })
      // The client hung up while the request waited for the one before it.
      if (turn.aborted || NodeHttpServerRequest.toIncomingMessage(request).socket.destroyed) {
        fiber.unsafeInterruptAsFork(HttpServerError.clientAbortFiberId)
      }
    }

    const onRequest = (incoming: IncomingMessage, outgoing: ServerResponse) => {
      const started = performance.now()
      const request = makeRequest(incoming, outgoing)
      const turn: Turn = { fiber: undefined, ended: false, aborted: false, next: undefined }
      const before = lastOf.get(incoming.socket)
      lastOf.set(incoming.socket, turn)
      inFlight++
      outgoing.on("close", () => {
        if (outgoing.writableEnded) return
        if (turn.fiber === undefined) turn.aborted = true
        else turn.fiber.unsafeInterruptAsFork(HttpServerError.clientAbortFiberId)
      })
      if (before === undefined || before.ended) run(request, started, turn)
      else before.next = () => run(request, started, turn)
    }

    yield* Effect.acquireRelease(
      Effect.sync(() => server.on("request", onRequest)),
      () =>
        Effect.suspend(() => {
          server.off("request", onRequest)
          return inFlight === 0 ? Effect.void : Effect.async<void>((resume) => {
            drained = () => resume(Effect.void)
          })
        })
    )
  })
