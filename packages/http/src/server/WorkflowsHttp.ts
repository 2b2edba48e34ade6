import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { SqlClient } from "@effect/sql"
import type { HttpLifecycleAction, Workflow } from "@workflows/domain"
import { Context, Effect, Either, type ParseResult } from "effect"
import { internalProblem } from "../api/Problem.js"
import { CurrentPrincipal } from "../api/WorkflowsApi.js"
import type { Caller, Page } from "../service/Workflows.js"
import { WorkflowStore } from "../service/WorkflowStore.js"
import { type Database, databaseKind } from "../storage/Sql.js"
import type { GroupHandlers } from "./ApiDispatch.js"
import { makeScrape } from "./HttpMetrics.js"
import { readJsonObject } from "./RequestBody.js"
import { CurrentRequestId } from "./RequestId.js"
import { encodeWorkflowEventJson, encodeWorkflowJson } from "./WorkflowWire.js"

const utf8 = new TextEncoder()
const JSON_TYPE = "application/json"

/**
 * Responses are encoded here rather than by the framework: a value that fails its own schema is
 * a server bug and must surface as a 500 (a defect), not as the framework's 400. The schemas are
 * synchronous, so they are run as `Either`s. Encoded values are plain JSON data: stringifying
 * them cannot fail.
 */
const workflowResponse = (workflow: Workflow, status = 200, location?: string) => {
  const body = encodeWorkflowJson(workflow)
  if (Either.isLeft(body)) return Effect.die(body.left)
  const bytes = utf8.encode(JSON.stringify(body.right))
  const length = String(bytes.length)
  // Every header is in the record the response is made from, `content-type` and `content-length`
  // included (the platform sets both again from the body, to the same values): it copies a
  // response's headers and sets those two on the copy, and adding them to a copy of a record with
  // properties makes V8 build a new hidden class for every response.
  return Effect.succeed(HttpServerResponse.uint8Array(
    bytes,
    {
      status,
      headers: location === undefined
        ? { etag: workflow.etag, "content-type": JSON_TYPE, "content-length": length }
        : { etag: workflow.etag, location, "content-type": JSON_TYPE, "content-length": length }
    }
  ))
}

/** A workflow answered with 200: `workflowResponse` with its defaults, as one function made once. */
const okResponse = (workflow: Workflow) => workflowResponse(workflow)

/**
 * A page, each item encoded as a single one is (`encodeWorkflowJson`, `encodeWorkflowEventJson`:
 * validated once, not twice); an item that fails its schema makes the page a defect.
 */
const pageResponse = <A, I>(encode: (item: A) => Either.Either<I, ParseResult.ParseError>) => (page: Page<A>) => {
  const data: Array<I> = []
  for (const item of page.data) {
    const encoded = encode(item)
    if (Either.isLeft(encoded)) return Effect.die(encoded.left)
    data.push(encoded.right)
  }
  return Effect.succeed(HttpServerResponse.unsafeJson({ data, has_more: page.has_more }))
}

const workflowPageResponse = pageResponse(encodeWorkflowJson)
const eventPageResponse = pageResponse(encodeWorkflowEventJson)

/** Handlers only translate: HTTP in, one call to the store with the request's caller, HTTP out. */
export const WorkflowsHandlers = Effect.gen(function*() {
  const { calls } = yield* WorkflowStore

  /**
   * Runs `call` with the request's caller: the key's organization, the key as actor, the request id
   * for the audit trail. Read from the fiber in one step (the request's context holds the principal).
   */
  const withCaller = <A, E>(call: (caller: Caller) => Effect.Effect<A, E>) =>
    Effect.withFiberRuntime<A, E, CurrentPrincipal>((fiber) => {
      const principal = Context.unsafeGet(fiber.currentContext, CurrentPrincipal)
      return call({
        organization_id: principal.organization_id,
        actor: { type: "api_key", id: principal.key_id },
        request_id: fiber.getFiberRef(CurrentRequestId)
      })
    })

  // The handlers with several steps are `fnUntraced`: one generator function for every request
  // (a generator function made per request costs V8 a prototype and a hidden class each time).
  const lifecycle = (action: HttpLifecycleAction) =>
    Effect.fnUntraced(function*({ headers, path, request }: {
      readonly headers: { readonly "if-match"?: string | undefined }
      readonly path: { readonly id: string }
      readonly request: HttpServerRequest.HttpServerRequest
    }) {
      const body = yield* readJsonObject(request, { optional: true })
      const workflow = yield* withCaller((caller) =>
        calls[action](caller, path.id, { body, if_match: headers["if-match"] })
      )
      return yield* workflowResponse(workflow)
    })

  return {
    create: Effect.fnUntraced(function*({ headers, request }: {
      readonly headers: { readonly "idempotency-key"?: string | undefined }
      readonly request: HttpServerRequest.HttpServerRequest
    }) {
      const body = yield* readJsonObject(request, { optional: false })
      const workflow = yield* withCaller((caller) =>
        calls.create(caller, body ?? {}, { idempotency_key: headers["idempotency-key"] })
      )
      return yield* workflowResponse(workflow, 201, `/v1/workflows/${workflow.id}`)
    }),
    list: ({ urlParams }) => withCaller((c) => Effect.flatMap(calls.list(c, urlParams), workflowPageResponse)),
    get: ({ path }) => withCaller((c) => Effect.flatMap(calls.get(c, path.id), okResponse)),
    update: ({ headers, path, request }) =>
      Effect.flatMap(
        readJsonObject(request, { optional: false }),
        (body) =>
          withCaller((c) =>
            Effect.flatMap(calls.update(c, path.id, body ?? {}, { if_match: headers["if-match"] }), okResponse)
          )
      ),
    activate: lifecycle("activate"),
    pause: lifecycle("pause"),
    resume: lifecycle("resume"),
    cancel: lifecycle("cancel"),
    events: ({ path, urlParams }) =>
      withCaller((c) => Effect.flatMap(calls.events(c, path.id, urlParams), eventPageResponse))
  } satisfies GroupHandlers<"workflows", CurrentPrincipal>
})

/**
 * `/readyz` needs no key, so it says which kind of database answered and nothing about where
 * it is (the start-up line tells the operator that).
 */
export const SystemHandlers = (database: Database) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const scrape = yield* makeScrape
    return {
      healthz: () => Effect.succeed({ status: "ok" as const }),
      metrics: () =>
        Effect.map(scrape, (text) =>
          HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4; charset=utf-8" })),
      readyz: () =>
        sql`SELECT 1 AS ok`.pipe(
          Effect.timeout("2 seconds"),
          Effect.flatMap(() =>
            HttpServerResponse.json({ status: "ready", database: databaseKind(database) })
          ),
          Effect.catchAll(() =>
            HttpServerResponse.json(internalProblem(503, "The database does not answer."), {
              status: 503,
              contentType: "application/problem+json",
              headers: { "retry-after": "1" }
            })
          ),
          Effect.orDie
        )
    } satisfies GroupHandlers<"system", never>
  })
