import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import {
  decodeIdempotencyKey,
  decodeLifecycleRequest,
  decodeNewWorkflow,
  decodePatch,
  type EventQueryInput,
  type HttpLifecycleAction,
  IdempotencyKeyReused,
  type ListQueryInput,
  WorkflowNotFound,
  WorkflowPreconditionFailed,
  WorkflowStatusConflict,
  WorkflowValidationError
} from "@workflows/domain"
import { Config, type ConfigError, Effect, Layer, Redacted, Schema } from "effect"
import { UnavailableProblem, ValidationProblem } from "../api/Problem.js"
import { Authentication, CreateEndpoint, WorkflowsApi } from "../api/WorkflowsApi.js"
import { Workflows, type WorkflowsService } from "../service/Workflows.js"

export interface ClientOptions {
  readonly url: string
  readonly apiKey: Redacted.Redacted
}

/** `WORKFLOWS_URL` (default http://127.0.0.1:3000) and `WORKFLOWS_API_KEY`. */
export const ClientConfig: Config.Config<ClientOptions> = Config.all({
  url: Config.string("WORKFLOWS_URL").pipe(Config.withDefault("http://127.0.0.1:3000")),
  apiKey: Config.redacted("WORKFLOWS_API_KEY")
})

/** Query values travel as strings; absent ones are left out rather than sent empty. */
const queryParams = (query: ListQueryInput | EventQueryInput = {}) => ({
  ...("status" in query && query.status !== undefined ? { status: query.status } : {}),
  ...(query.limit !== undefined ? { limit: String(query.limit) } : {}),
  ...(query.starting_after !== undefined ? { starting_after: query.starting_after } : {})
})

const ifMatch = (value: string | undefined) => (value === undefined ? {} : { "if-match": value })

type DomainError =
  | WorkflowNotFound
  | WorkflowValidationError
  | WorkflowStatusConflict
  | WorkflowPreconditionFailed
  | IdempotencyKeyReused

/**
 * Domain errors pass through, completed with what this call sent (a problem document carries what
 * a client needs, not the request's own inputs), so they equal the in-process ones. Transport
 * failures, 401s and responses the contract does not describe are not outcomes a program handles
 * per call: they become defects, as storage failures do in-process.
 */
const settle =
  (sent: { readonly id?: string; readonly if_match?: string | undefined; readonly key?: string | undefined }) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, Extract<E, DomainError>, R> =>
    Effect.catchAll(self, (error): Effect.Effect<never, DomainError> => {
      if (error instanceof WorkflowNotFound) return Effect.fail(new WorkflowNotFound({ id: sent.id ?? error.id }))
      if (error instanceof WorkflowPreconditionFailed) {
        return Effect.fail(
          new WorkflowPreconditionFailed({ if_match: sent.if_match ?? "", current_etag: error.current_etag })
        )
      }
      if (error instanceof IdempotencyKeyReused) return Effect.fail(new IdempotencyKeyReused({ key: sent.key ?? "" }))
      if (error instanceof WorkflowValidationError || error instanceof WorkflowStatusConflict) return Effect.fail(error)
      return Effect.die(error)
    }) as Effect.Effect<A, Extract<E, DomainError>, R>

/**
 * `POST /v1/workflows` taking any JSON body, answered and decoded as the declared route. Under an
 * idempotency key the server looks the key up before judging the body (a replay or a 422 comes
 * before a 400), so the client cannot refuse such a body itself.
 */
const UncheckedCreateApi = HttpApi.make("workflows")
  .add(
    HttpApiGroup.make("workflows")
      .add(CreateEndpoint.setPayload(Schema.Unknown))
      .addError(UnavailableProblem)
      .middleware(Authentication)
      .prefix("/v1")
  )
  .addError(ValidationProblem)

export const make = (options: ClientOptions) =>
  Effect.gen(function*() {
    const clientOptions = {
      baseUrl: options.url,
      transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(options.apiKey)))
    }
    const { workflows } = yield* HttpApiClient.make(WorkflowsApi, clientOptions)
    const unchecked = yield* HttpApiClient.make(UncheckedCreateApi, clientOptions)

    // Bodies are judged here by the same schemas and adapter as in-process, so a bad body fails
    // with the same WorkflowValidationError before any request (the server would refuse it alike).
    const lifecycle = (action: HttpLifecycleAction): WorkflowsService["activate"] => (id, call = {}) =>
      Effect.zipRight(
        decodeLifecycleRequest(call.body),
        workflows[action]({ path: { id }, payload: call.body ?? {}, headers: ifMatch(call.if_match) })
      ).pipe(settle({ id, if_match: call.if_match }))

    const service: WorkflowsService = {
      // Without a key a bad body fails here; with one only the server knows whether the key answers first.
      create: (body, call = {}) =>
        Effect.zipRight(
          decodeIdempotencyKey(call.idempotency_key, body),
          call.idempotency_key === undefined
            ? Effect.zipRight(decodeNewWorkflow(body), workflows.create({ payload: body, headers: {} }))
            : unchecked.workflows.create({ payload: body, headers: { "idempotency-key": call.idempotency_key } })
        ).pipe(settle({ key: call.idempotency_key })),
      // A GET of one workflow has nothing to validate: a 400 there would be a server bug.
      get: (id) =>
        workflows.get({ path: { id } }).pipe(settle({ id }), Effect.catchTag("WorkflowValidationError", Effect.die)),
      list: (query) => workflows.list({ urlParams: queryParams(query) }).pipe(settle({})),
      update: (id, body, call = {}) =>
        Effect.zipRight(
          decodePatch(body),
          workflows.update({ path: { id }, payload: body, headers: ifMatch(call.if_match) })
        ).pipe(
          settle({ id, if_match: call.if_match })
        ),
      activate: lifecycle("activate"),
      pause: lifecycle("pause"),
      resume: lifecycle("resume"),
      cancel: lifecycle("cancel"),
      complete: () => Effect.dieMessage("complete is an internal action: no HTTP route exposes it"),
      events: (id, query) => workflows.events({ path: { id }, urlParams: queryParams(query) }).pipe(settle({ id }))
    }
    return service
  })

/** `Workflows` over HTTP: the same interface and errors as the in-process layer. */
export const layer = (options: ClientOptions): Layer.Layer<Workflows, never, HttpClient.HttpClient> =>
  Layer.effect(Workflows, make(options))

export const layerConfig: Layer.Layer<Workflows, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(ClientConfig, layer)
).pipe(Layer.provide(FetchHttpClient.layer))
