import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { validationError } from "@workflows/domain"
import { Effect } from "effect"

/** What an unknown query parameter is told, whatever its name. */
export const UNKNOWN_PARAMETER = "is not a known parameter"

/**
 * The framework copies the query onto a plain object before decoding it, and there `__proto__`
 * replaces the prototype instead of becoming a property: its unknown-parameter check never sees
 * that one name. The parsed query (a prototype-free object) still holds it, so it is checked here.
 */
export const refusePrototypeParameter = Effect.flatMap(HttpServerRequest.ParsedSearchParams, (params) =>
  Object.hasOwn(params, "__proto__") ? Effect.fail(validationError([{ field: "__proto__", message: UNKNOWN_PARAMETER }])) : Effect.void)
