import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Unauthorized } from "@workflows/domain"
import { Effect, Layer } from "effect"
import { ApiKeys } from "../storage/ApiKeys.js"
import { Authentication } from "../api/WorkflowsApi.js"

const challenge = HttpApp.appendPreResponseHandler((_request, response) =>
  Effect.succeed(HttpServerResponse.setHeader(response, "www-authenticate", "Bearer"))
)

// The framework hands over `authorization.slice(7)` whatever the scheme, so the header is read again here.
const BEARER = /^Bearer +(\S+) *$/i

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.map(ApiKeys, (keys) =>
    Authentication.of({
      bearer: () =>
        Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
          const token = BEARER.exec(request.headers.authorization ?? "")?.[1]
          return token === undefined
            ? Effect.fail(new Unauthorized({ reason: "Send an API key as `Authorization: Bearer <key>`." }))
            : keys.authenticate(token)
        }).pipe(Effect.tapError(() => challenge))
    })
  )
)
