import * as HttpApi from "@effect/platform/HttpApi"
import * as FindMyWay from "find-my-way-ts"
import { WorkflowsApi } from "../api/WorkflowsApi.js"

/** The label of a request that matches no route: a fixed value, so a scan of random paths adds no series. */
export const UNMATCHED_ROUTE = "unmatched"

/**
 * The router's default 100-character limit on a path parameter would answer a long `{id}` with
 * "no route" (and before authentication); the server lets it through, so it gets the missing
 * workflow's 404. Templates are looked up with the same limit.
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

/**
 * The route templates as the API document writes them (`/v1/workflows/{id}`), looked up with the
 * same router library and limits the server routes with, so a request gets the template of the
 * route that serves it. It runs once per request at the edge, before routing: the span's name and
 * the metric labels are known from the start, and no id ever reaches a label.
 */
const router = (() => {
  const found = FindMyWay.make<string>({ maxParamLength: MAX_PARAM_LENGTH })
  const add = (method: string, path: `/${string}`) => found.on(method, path, path.replace(/:(\w+)/g, "{$1}"))
  HttpApi.reflect(WorkflowsApi, {
    onGroup: () => {},
    onEndpoint: ({ endpoint }) => add(endpoint.method, endpoint.path)
  })
  for (const [method, path] of OTHER_ROUTES) add(method, path)
  return found
})()

/** The template of the route `method url` reaches, or `UNMATCHED_ROUTE`. */
export const routeTemplate = (method: string, url: string): string => {
  const queryAt = url.indexOf("?")
  const path = queryAt < 0 ? url : url.slice(0, queryAt)
  const found = router.find(method, path)?.handler
  if (found !== undefined || !path.includes("%")) return found ?? UNMATCHED_ROUTE
  // A broken percent-escape is taken literally by the server (RequestPath.ts): so here too.
  return router.find(method, path.replaceAll("%", "%25"))?.handler ?? UNMATCHED_ROUTE
}
