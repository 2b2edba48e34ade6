import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect } from "effect"

const decodes = (path: string): boolean => {
  try {
    decodeURIComponent(path)
    return true
  } catch {
    return false
  }
}

/**
 * A path with a broken percent-escape (`/v1/workflows/%FF`: no UTF-8 behind it) makes the router
 * find no route at all, so the caller would get "no route" before authentication. Such a path
 * is taken literally instead (`%` as `%25`): the request reaches its route, is authenticated
 * first, and the id — which cannot match the id pattern — gets the missing workflow's 404.
 */
export const literalBrokenEscapes = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const queryAt = request.url.indexOf("?")
    const path = queryAt < 0 ? request.url : request.url.slice(0, queryAt)
    if (!path.includes("%") || decodes(path)) return app
    const url = path.replaceAll("%", "%25") + (queryAt < 0 ? "" : request.url.slice(queryAt))
    return Effect.provideService(app, HttpServerRequest.HttpServerRequest, request.modify({ url }))
  })
