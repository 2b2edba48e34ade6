import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Unauthorized } from "@workflows/domain"
import { Context, Effect, Layer } from "effect"
import { Authentication } from "../api/WorkflowsApi.js"
import { ApiKeys } from "../storage/ApiKeys.js"

/**
 * A 401 says how to authenticate. Set on the problem document as the dispatch encodes an
 * `Unauthorized` (only authentication fails with one), not by a pre-response hook per failure.
 */
export const challenge = (response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.setHeader(response, "www-authenticate", "Bearer")

// The framework hands over `authorization.slice(7)` whatever the scheme, so the header is read again here.
const BEARER = /^Bearer +(\S+) *$/i

/** Node keeps the first of several `Authorization` headers and drops the rest: count them on the wire. */
const authorizationHeaders = (request: HttpServerRequest.HttpServerRequest): number => {
  const raw = NodeHttpServerRequest.toIncomingMessage(request).rawHeaders
  let count = 0
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === "authorization") count++
  }
  return count
}

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.map(ApiKeys, (keys) =>
    Authentication.of({
      // The checks are plain code around the key lookup: one step of its own.
      bearer: () =>
        Effect.withFiberRuntime((fiber) => {
          const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
          // Two credentials are ambiguous: serving either would be a guess at who is calling.
          if (authorizationHeaders(request) > 1) {
            return Effect.fail(
              new Unauthorized({ reason: "Send one Authorization header: two or more credentials are ambiguous." })
            )
          }
          const token = BEARER.exec(request.headers.authorization ?? "")?.[1]
          return token === undefined
            ? Effect.fail(new Unauthorized({ reason: "Send an API key as `Authorization: Bearer <key>`." }))
            : keys.authenticate(token)
        })
    }))
)
