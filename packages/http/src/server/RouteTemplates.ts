import * as HttpApi from "@effect/platform/HttpApi"
import { FiberRef } from "effect"
import * as FindMyWay from "find-my-way-ts"
import { WorkflowsApi } from "../api/WorkflowsApi.js"

/** The label of a request that matches no route: a fixed value, so a scan of random paths adds no series. */
export const UNMATCHED_ROUTE = "unmatched"

/**
 * The router's default 100-character limit on a path parameter would answer a long `{id}` with
 * "no route" (and before authentication); the server lets it through, so it gets the missing
 * workflow's 404.
 */
export const MAX_PARAM_LENGTH = 8 * 1024

/** Methods named as themselves; any other is `_OTHER` (the HTTP semantic conventions' rule), so labels stay few. */
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
export const methodLabel = (method: string): string => (KNOWN_METHODS.has(method) ? method : "_OTHER")

/** The routes served beside the API's endpoints (`Server.ts`): the API document and its page. */
export const OPENAPI_PATH = "/openapi.json"
export const DOCS_PATH = "/docs"
const OTHER_ROUTES: ReadonlyArray<readonly [method: string, path: `/${string}`]> = [
  ["GET", OPENAPI_PATH],
  ["GET", DOCS_PATH]
]

/** A route of the server: how the dispatch knows it, and its template as the API document writes it. */
export interface Route {
  /** `PATCH /v1/workflows/:id`: the method and path as declared. */
  readonly key: string
  /** `/v1/workflows/{id}`: the metric label and the span name's route; never an id. */
  readonly template: string
}

export const routeKey = (method: string, path: string): string => `${method} ${path}`

const keys = new Set<string>()

/** Every route served, from the HttpApi definition and the extra routes. */
const router = (() => {
  const found = FindMyWay.make<Route>({ maxParamLength: MAX_PARAM_LENGTH })
  const add = (method: string, path: `/${string}`) => {
    const key = routeKey(method, path)
    keys.add(key)
    found.on(method, path, { key, template: path.replace(/:(\w+)/g, "{$1}") })
  }
  HttpApi.reflect(WorkflowsApi, {
    onGroup: () => {},
    onEndpoint: ({ endpoint }) => add(endpoint.method, endpoint.path)
  })
  for (const [method, path] of OTHER_ROUTES) add(method, path)
  return found
})()

const decodes = (path: string): boolean => {
  try {
    decodeURIComponent(path)
    return true
  } catch {
    return false
  }
}

/**
 * The route `method url` reaches, looked up once per request by the edge and shared by the
 * dispatch, the metric labels and the span. `HEAD` is served by the `GET` route. A path with a
 * broken percent-escape (`/v1/workflows/%FF`: no UTF-8 behind it) would match no route at all,
 * so its caller would get "no route" before authentication; such a path is taken literally
 * instead (`%` as `%25`): the request reaches its route, is authenticated first, and the id —
 * which cannot match the id pattern — gets the missing workflow's 404.
 */
export const matchRoute = (method: string, url: string): FindMyWay.FindResult<Route> | undefined => {
  const found = router.find(method, url) ?? (method === "HEAD" ? router.find("GET", url) : undefined)
  if (found !== undefined) return found
  const queryAt = url.indexOf("?")
  const path = queryAt < 0 ? url : url.slice(0, queryAt)
  if (!path.includes("%") || decodes(path)) return undefined
  return matchRoute(method, path.replaceAll("%", "%25") + (queryAt < 0 ? "" : url.slice(queryAt)))
}

/** Whether `method path` (as declared) is one of the routes `matchRoute` finds. */
export const isRoute = (method: string, path: string): boolean => keys.has(routeKey(method, path))

/** The current request's route (`undefined`: none matched), set by the edge as the request's fiber starts. */
export const CurrentRoute: FiberRef.FiberRef<FindMyWay.FindResult<Route> | undefined> = FiberRef.unsafeMake<
  FindMyWay.FindResult<Route> | undefined
>(undefined)
