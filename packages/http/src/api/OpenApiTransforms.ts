/**
 * What the document must say about the wire that HttpApi's annotations cannot express, kept apart
 * from the endpoint definitions: response headers, a second request media type, optional request
 * bodies, and the framework's own decode error, which this server never sends. Everything else in
 * the document is generated from the schemas.
 */

interface SchemaRef {
  readonly $ref?: string
  readonly anyOf?: ReadonlyArray<SchemaRef>
}
type Content = { [mediaType: string]: { schema?: SchemaRef; example?: unknown } | undefined }
interface Header {
  readonly description: string
  readonly required?: true
  readonly schema: { readonly type: "string" }
}
interface Response {
  description?: string
  headers?: { [name: string]: Header }
  content?: Content
}
interface Operation {
  parameters?: ReadonlyArray<unknown>
  security?: ReadonlyArray<unknown>
  requestBody?: { content?: Content; required?: boolean }
  responses?: { [status: string]: Response | undefined }
}
interface Document {
  paths?: { [path: string]: { [method: string]: Operation } }
  components?: { schemas?: { [name: string]: unknown } }
}
type Json = Record<string, unknown>

/** `always`: every response it is documented on carries it. */
const header = (description: string, always = false): Header =>
  always ? { description, required: true, schema: { type: "string" } } : { description, schema: { type: "string" } }
const addHeaders = (response: Response | undefined, headers: { readonly [name: string]: Header }) => {
  if (response !== undefined) response.headers = { ...response.headers, ...headers }
}

const ETAG = header("The workflow's version as a strong tag, `\"<version>\"`: send it back in `If-Match`.", true)

/** PATCH bodies may also be sent as `application/merge-patch+json`. */
export function mergePatchToo(input: Json): Json {
  const content = (input as Operation).requestBody?.content
  if (content?.["application/json"] !== undefined) content["application/merge-patch+json"] = content["application/json"]
  return input
}

/** A lifecycle call may come without a body; the framework marks every declared payload required. */
export function lifecycleBodyOptional(input: Json): Json {
  const body = (input as Operation).requestBody
  if (body !== undefined) body.required = false
  return input
}

/** A workflow answered with 200 carries its `ETag`, which the handler sets. */
export function workflowResponse(input: Json): Json {
  addHeaders((input as Operation).responses?.["200"], { ETag: ETAG })
  return input
}

/**
 * A created workflow carries its `ETag` and `Location`. (The framework inlines a success schema
 * given another status; it is the `Workflow` schema, so the document refers to it.)
 */
export function createdResponse(input: Json): Json {
  const created = (input as Operation).responses?.["201"]
  const json = created?.content?.["application/json"]
  if (json !== undefined) json.schema = { $ref: "#/components/schemas/Workflow" }
  addHeaders(created, { ETag: ETAG, Location: header("The new workflow's URL.", true) })
  return input
}

/** Headers the edge sets on every response, or on every response of one status. */
const HEADERS_BY_STATUS: { readonly [status: string]: { readonly [name: string]: Header } } = {
  "401": { "WWW-Authenticate": header("`Bearer`: the scheme to authenticate with.", true) },
  "415": {
    "Accept-Patch": header(
      "When the media type is the problem: the ones a body may be sent as, `application/json, application/merge-patch+json`."
    ),
    "Accept-Encoding": header("`identity`, when the body came compressed (only uncompressed bodies are accepted).")
  },
  "503": { "Retry-After": header("Seconds to wait before retrying: the database is down, overloaded or locked.", true) }
}

export function documentHeaders(input: Json): Json {
  const requestId = header("The request's id: the caller's `X-Request-Id` when it is sane, else a generated one.", true)
  for (const path of Object.values((input as Document).paths ?? {})) {
    for (const operation of Object.values(path)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        addHeaders(response, { "X-Request-Id": requestId, ...HEADERS_BY_STATUS[status] })
      }
    }
  }
  return input
}

/**
 * The docs page prefills "Try it out" from the media type's `example` (else it builds a body with
 * every field, read-only ones included, which the server refuses): use the schema's first example.
 */
export function requestExamples(input: Json): Json {
  const spec = input as Document
  for (const path of Object.values(spec.paths ?? {})) {
    for (const operation of Object.values(path)) {
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        const name = media?.schema?.$ref?.replace("#/components/schemas/", "")
        const examples = (spec.components?.schemas?.[name ?? ""] as { examples?: ReadonlyArray<unknown> } | undefined)
          ?.examples
        if (media !== undefined && examples !== undefined && examples.length > 0) media.example = examples[0]
      }
    }
  }
  return input
}

/**
 * Oversized request headers are refused by Node's parser before any route is chosen (the edge
 * writes the problem document), so every operation can answer 431.
 */
export function headersTooLarge(input: Json): Json {
  const response = {
    description: "Request headers too large",
    headers: { "X-Request-Id": header("A generated request id.", true) },
    content: {
      "application/problem+json": {
        schema: {
          type: "object",
          required: ["type", "title", "status", "detail", "code", "errors"],
          properties: {
            type: { type: "string" },
            title: { type: "string" },
            status: { const: 431 },
            detail: { type: "string" },
            code: { const: "validation_failed" },
            errors: { type: "array", items: { $ref: "#/components/schemas/FieldError" } }
          }
        }
      }
    }
  }
  for (const path of Object.values((input as Document).paths ?? {})) {
    for (const operation of Object.values(path)) {
      operation.responses = { ...operation.responses, "431": structuredClone(response) as Response }
    }
  }
  return input
}

/**
 * The framework documents its own decode error on every 400; this server never sends that shape
 * (the edge rewrites it into a validation problem), so the document shows ours alone, and only
 * where there is something to validate.
 */
export function onlyOurProblems(input: Json): Json {
  const spec = input as Document
  for (const name of ["HttpApiDecodeError", "Issue", "PropertyKey"]) delete spec.components?.schemas?.[name]
  for (const path of Object.values(spec.paths ?? {})) {
    for (const operation of Object.values(path)) {
      const badRequest = operation.responses?.["400"]
      if (badRequest === undefined) continue
      // Nothing to decode (no parameter, body or key): the probes never answer 400.
      if (!operation.parameters?.length && operation.requestBody === undefined && !operation.security?.length) {
        delete operation.responses?.["400"]
        continue
      }
      const schema = badRequest.content?.["application/json"]?.schema ??
        badRequest.content?.["application/problem+json"]?.schema
      const ours = (schema?.anyOf ?? (schema === undefined ? [] : [schema])).filter(
        (s) => s.$ref !== "#/components/schemas/HttpApiDecodeError"
      )
      badRequest.description = "Validation failed"
      badRequest.content = { "application/problem+json": { schema: ours.length === 1 ? ours[0]! : { anyOf: ours } } }
    }
  }
  return input
}
