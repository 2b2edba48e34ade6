import * as HttpApi from "@effect/platform/HttpApi"
import type * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Unauthorized } from "@workflows/domain"
import { type Cause, Context, Effect, Either, FiberRef, Option, type ParseResult, Redacted, Schema } from "effect"
import type * as FindMyWay from "find-my-way-ts"
import { Authentication, CurrentPrincipal, WorkflowsApi } from "../api/WorkflowsApi.js"
import type { Principal } from "../storage/ApiKeys.js"
import { challenge } from "./Authentication.js"
import { CurrentRoute, isRoute, type Route, routeKey } from "./RouteTemplates.js"

type Groups = typeof WorkflowsApi extends HttpApi.HttpApi<string, infer G, infer _E, infer _R> ? G : never
type ApiError = typeof WorkflowsApi extends HttpApi.HttpApi<string, infer _G, infer E, infer _R> ? E : never
type GroupNamed<Group extends string> = HttpApiGroup.HttpApiGroup.WithName<Groups, Group>
type Endpoints<Group extends string> = HttpApiGroup.HttpApiGroup.Endpoints<GroupNamed<Group>>

/**
 * One handler per endpoint of a group, typed by its endpoint in the HttpApi definition: the raw
 * request with its decoded path, headers and query, answering a response or the success value.
 */
export type GroupHandlers<Group extends HttpApiGroup.HttpApiGroup.Name<Groups>, R> = {
  readonly [E in Endpoints<Group> as E["name"]]: HttpApiEndpoint.HttpApiEndpoint.HandlerRaw<
    E,
    ApiError | HttpApiGroup.HttpApiGroup.Error<GroupNamed<Group>>,
    R
  >
}

export type ApiHandlers<R> = { readonly [G in HttpApiGroup.HttpApiGroup.Name<Groups>]: GroupHandlers<G, R> }

type AnyHandler = (request: Record<string, unknown>) => Effect.Effect<unknown, unknown, CurrentPrincipal>
type Handle = (request: HttpServerRequest.HttpServerRequest, found: FindMyWay.FindResult<Route>) => Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  unknown,
  HttpServerRequest.HttpServerRequest
>

/** A typed failure of any endpoint, with what turns it into its problem document. */
interface ErrorEncoder {
  readonly is: (u: unknown) => boolean
  readonly encode: (u: unknown) => Effect.Effect<unknown, ParseResult.ParseError>
  readonly status: number
  readonly contentType: string
}

const errorEncoders = (api: HttpApi.HttpApi.Any): ReadonlyArray<ErrorEncoder> => {
  const schemas = new Set<Schema.Schema.Any>()
  const { errorSchema, groups } = api as unknown as HttpApi.HttpApi<
    string,
    HttpApiGroup.HttpApiGroup.Any,
    unknown,
    unknown
  >
  HttpApiSchema.deunionize(schemas, errorSchema)
  for (const group of Object.values(groups) as unknown as ReadonlyArray<HttpApiGroup.HttpApiGroup.AnyWithProps>) {
    for (const endpoint of Object.values(group.endpoints)) HttpApiSchema.deunionize(schemas, endpoint.errorSchema)
    HttpApiSchema.deunionize(schemas, group.errorSchema)
  }
  return Array.from(schemas, (schema) => ({
    is: Schema.is(Schema.typeSchema(schema as Schema.Schema<unknown, unknown, never>)),
    encode: Schema.encodeUnknown(schema as Schema.Schema<unknown, unknown, never>),
    status: HttpApiSchema.getStatusErrorAST(schema.ast),
    contentType: HttpApiSchema.getEncoding(schema.ast).contentType
  }))
}

/**
 * The API's routes served straight from its HttpApi definition. Per request it does what the
 * framework's HttpApiBuilder does, in the same order (authenticate, decode the path, the headers
 * and the query with the endpoint's schemas, run the handler, encode a typed failure with its
 * error schema), without its layers of middleware, context merges and scoped services: those
 * cost more than the handler itself. The definition stays the contract for the OpenAPI document
 * and the typed client. `problems` answers every failure, typed ones through their error schemas.
 * `extraRoutes` are GETs outside the API (documents).
 */
export const makeApiApp = <R>(options: {
  readonly handlers: ApiHandlers<R>
  readonly extraRoutes: ReadonlyArray<readonly [path: `/${string}`, HttpApp.Default<unknown>]>
  readonly problems: (
    cause: Cause.Cause<unknown>,
    encode: (error: unknown) => Effect.Effect<HttpServerResponse.HttpServerResponse>
  ) => Effect.Effect<HttpServerResponse.HttpServerResponse, unknown>
}): Effect.Effect<HttpApp.Default<never, Exclude<R, CurrentPrincipal>>, never, Authentication> =>
  Effect.flatMap(Authentication, (service) => {
    // The framework runs security middleware inside its router, whose context it may read; ours
    // reads the request only, which is all this dispatch provides.
    const authenticate = service.bearer as (
      token: Redacted.Redacted
    ) => Effect.Effect<Principal, Unauthorized, HttpServerRequest.HttpServerRequest>
    const routes = new Map<string, Handle>()
    // The edge looks routes up in RouteTemplates: one that is not there would never be reached.
    const unreachable: Array<string> = []
    const serve = (method: string, path: string, handle: Handle) => {
      if (!isRoute(method, path)) unreachable.push(routeKey(method, path))
      routes.set(routeKey(method, path), handle)
    }
    const encoders = errorEncoders(WorkflowsApi)

    HttpApi.reflect(WorkflowsApi, {
      onGroup: () => {},
      onEndpoint: ({ endpoint, group, middleware }) => {
        const handler =
          (options.handlers as unknown as Record<string, Record<string, AnyHandler>>)[group.identifier]![endpoint.name]!
        // Sync schemas: decoded as `Either`s, so a valid input costs no effect steps of its own.
        const decodePath = Option.getOrUndefined(Option.map(endpoint.pathSchema, Schema.decodeUnknownEither))
        const decodeHeaders = Option.getOrUndefined(Option.map(endpoint.headersSchema, Schema.decodeUnknownEither))
        // Every query parameter is a single string: a repeated one stays an array and fails decoding.
        const decodeQuery = Option.getOrUndefined(Option.map(endpoint.urlParamsSchema, Schema.decodeUnknownEither))
        const encodeSuccess = Schema.encodeEither(endpoint.successSchema as Schema.Schema<unknown, unknown, never>)
        const successStatus = HttpApiSchema.getStatusSuccessAST(endpoint.successSchema.ast)
        const secured = (middleware as ReadonlySet<unknown>).has(Authentication)

        const run = (request: HttpServerRequest.HttpServerRequest, found: FindMyWay.FindResult<Route>) => {
          const input: Record<string, unknown> = { request }
          if (decodePath !== undefined) {
            const path = decodePath(found.params)
            if (Either.isLeft(path)) return HttpApiDecodeError.refailParseError(path.left)
            input.path = path.right
          }
          if (decodeHeaders !== undefined) {
            const headers = decodeHeaders(request.headers)
            if (Either.isLeft(headers)) return HttpApiDecodeError.refailParseError(headers.left)
            input.headers = headers.right
          }
          if (decodeQuery !== undefined) {
            const query = decodeQuery(found.searchParams)
            if (Either.isLeft(query)) return HttpApiDecodeError.refailParseError(query.left)
            input.urlParams = query.right
          }
          return handler(input)
        }

        // A success value that fails its own schema is a server bug: a defect (500), not a 400.
        const respond = (result: unknown): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
          if (HttpServerResponse.isServerResponse(result)) return Effect.succeed(result)
          const body = encodeSuccess(result)
          return Either.isLeft(body)
            ? Effect.die(body.left)
            : Effect.succeed(HttpServerResponse.unsafeJson(body.right, { status: successStatus }))
        }

        // As the framework does: the header's value after `Bearer `, whatever the scheme (the check is the handler's).
        // The principal is added to the request fiber's context outright, not scoped with `provideService`:
        // the fiber ends with the request (as the request log's annotations, docs/DECISIONS.md).
        const handle: Handle = secured
          ? (request, found) =>
            Effect.flatMap(
              authenticate(Redacted.make((request.headers.authorization ?? "").slice(7))),
              (principal) =>
                Effect.zipRight(
                  FiberRef.update(FiberRef.currentContext, Context.add(CurrentPrincipal, principal)),
                  Effect.flatMap(run(request, found) as Effect.Effect<unknown, unknown>, respond)
                )
            )
          : (request, found) => Effect.flatMap(run(request, found) as Effect.Effect<unknown, unknown>, respond)
        serve(endpoint.method, endpoint.path, handle)
      }
    })
    for (const [path, app] of options.extraRoutes) serve("GET", path, () => app)

    // A failure no error schema declares is a bug: a defect, as the framework would have it.
    const encodeFailure = (error: unknown): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
      for (const encoder of encoders) {
        if (encoder.is(error)) {
          return Effect.orDie(
            Effect.map(encoder.encode(error), (body) => {
              const response = HttpServerResponse.unsafeJson(body, {
                status: encoder.status,
                contentType: encoder.contentType
              })
              return error instanceof Unauthorized ? challenge(response) : response
            })
          )
        }
      }
      return Effect.die(error)
    }

    // The route was looked up once, by the edge, as the request's fiber started.
    const dispatch: HttpApp.Default<unknown, HttpServerRequest.HttpServerRequest> = Effect.withFiberRuntime((fiber) => {
      const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
      const found = fiber.getFiberRef(CurrentRoute)
      const handle = found === undefined ? undefined : routes.get(found.handler.key)
      if (found === undefined || handle === undefined) {
        return Effect.fail(new HttpServerError.RouteNotFound({ request }))
      }
      return Effect.interruptible(handle(request, found))
    })
    if (unreachable.length > 0) return Effect.dieMessage(`not in RouteTemplates: ${unreachable.join(", ")}`)
    // Every failure is answered under one frame: `problems` maps it, typed errors encoded by their schemas.
    const answered = Effect.catchAllCause(dispatch, (cause) => options.problems(cause, encodeFailure))
    return Effect.succeed(answered as HttpApp.Default<never, Exclude<R, CurrentPrincipal>>)
  })
