import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as OpenApi from "@effect/platform/OpenApi"
import { LIMIT_MAX, type Principal, READ_ONLY_FIELDS, RequestStatus, WorkflowEvent, WorkflowJson, WorkflowStatus } from "@workflows/domain"
import { Context, JSONSchema, Schema } from "effect"
import {
  IdempotencyProblem,
  NotFoundProblem,
  PayloadTooLargeProblem,
  PreconditionProblem,
  StatusConflictProblem,
  UnauthorizedProblem,
  UnavailableProblem,
  UnsupportedMediaTypeProblem,
  ValidationProblem
} from "./Problem.js"

/** The caller resolved from its API key, provided to every `/v1` handler. */
export class CurrentPrincipal extends Context.Tag("@workflows/CurrentPrincipal")<CurrentPrincipal, Principal>() {}

export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("@workflows/Authentication", {
  failure: UnauthorizedProblem,
  provides: CurrentPrincipal,
  security: { bearer: HttpApiSecurity.bearer.pipe(HttpApiSecurity.annotate(OpenApi.Description, "An API key: `wfk_…`")) }
}) {}

/**
 * Bodies are read and validated by the service itself (all problems at once, unknown fields
 * named), so on the wire a body is any JSON object. The documented fields below feed the
 * OpenAPI document only, through a hand-made JSON Schema.
 */
const documentedObject = <Fields extends Schema.Struct.Fields>(identifier: string, description: string, fields: Fields) =>
  Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
    identifier,
    description,
    jsonSchema: { ...JSONSchema.make(Schema.Struct(fields)), $schema: undefined, additionalProperties: false }
  })

const Text = (description: string) => Schema.String.annotations({ description })

/**
 * The record's read-only fields, typed as the record has them. (`Schema.Unknown` would put the same
 * `$id: "/schemas/unknown"` on each of them, which makes the document invalid JSON Schema 2020-12.)
 */
const readOnly = (schema: Schema.Schema<any, any, never>) =>
  Schema.optional(schema.annotations({ description: "Read-only: ignored when equal to the stored value." }))
const count = Schema.Number.pipe(Schema.int(), Schema.greaterThanOrEqualTo(0))
const readOnlyFields = {
  id: readOnly(Schema.String),
  organization_id: readOnly(Schema.String),
  created_at: readOnly(Schema.String),
  updated_at: readOnly(Schema.String),
  version: readOnly(Schema.Number.pipe(Schema.int(), Schema.greaterThanOrEqualTo(1))),
  node_count: readOnly(count),
  edge_count: readOnly(count),
  enrolled_leads: readOnly(count)
} satisfies { readonly [F in (typeof READ_ONLY_FIELDS)[number]]: unknown }

export const PatchBody = documentedObject(
  "WorkflowPatch",
  "Fields to change. Read-only fields may be echoed back unchanged; any other field is rejected.",
  {
    title: Schema.optional(Text("New display name, 1–200 characters after trimming.")),
    name: Schema.optional(Text("Alias of `title`.")),
    description: Schema.optional(Schema.NullOr(Text("At most 2,000 characters; `null` or blank clears it."))),
    status: Schema.optional(RequestStatus.annotations({ description: "Accepted only when equal to the current status; use the lifecycle routes to change it." })),
    ...readOnlyFields
  }
)

export const CreateBody = documentedObject("NewWorkflow", "A new workflow. `title` (or `name`) is required.", {
  title: Schema.optional(Text("Display name, 1–200 characters after trimming.")),
  name: Schema.optional(Text("Alias of `title`.")),
  description: Schema.optional(Schema.NullOr(Text("At most 2,000 characters."))),
  status: Schema.optional(Schema.Literal("draft", "active").annotations({ description: "Initial status, `draft` by default." }))
})

export const LifecycleBody = documentedObject("LifecycleRequest", "Optional; the reason is recorded on the audit event.", {
  reason: Schema.optional(Text("Why, at most 500 characters."))
})

const page = <S extends Schema.Schema.Any>(item: S, identifier: string) =>
  Schema.Struct({ data: Schema.Array(item), has_more: Schema.Boolean }).annotations({ identifier })

export const WorkflowPage = page(WorkflowJson, "WorkflowPage")
export const WorkflowEventPage = page(WorkflowEvent, "WorkflowEventPage")

const IdPath = Schema.Struct({ id: Schema.String.annotations({ description: "A workflow id, `wfl_…` (or legacy `wf_…`)." }) })
const IfMatch = Schema.Struct({
  "if-match": Schema.optional(Schema.String.annotations({ description: 'The ETag you read, `"<version>"`, or `*`.' }))
})
const PageParams = {
  // Validated by the service (its message names the bounds); the document shows the integer it wants.
  limit: Schema.optional(Schema.String.annotations({
    description: `1–${LIMIT_MAX}, default 20.`,
    jsonSchema: { type: "integer", minimum: 1, maximum: LIMIT_MAX, default: 20 }
  })),
  starting_after: Schema.optional(Schema.String.annotations({ description: "The id of the last item of the previous page." }))
}

/** A misspelt query parameter (`?limt=5`) is an error naming it, not a silently ignored option. */
const queryParams = <Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.Struct(fields).annotations({ parseOptions: { onExcessProperty: "error", errors: "all" } })

const lifecycle = <const Name extends string>(name: Name, summary: string) =>
  HttpApiEndpoint.post(name, `/workflows/:id/${name}`)
    .setPath(IdPath)
    .setPayload(LifecycleBody)
    .setHeaders(IfMatch)
    .addSuccess(WorkflowJson)
    .addError(NotFoundProblem)
    .addError(StatusConflictProblem)
    .addError(PreconditionProblem)
    .annotate(OpenApi.Summary, summary)
    .annotate(OpenApi.Transform, (operation) => workflowHeaders(optionalBody(operation)))

export class WorkflowsGroup extends HttpApiGroup.make("workflows")
  .add(
    HttpApiEndpoint.post("create", "/workflows")
      .setPayload(CreateBody)
      .setHeaders(Schema.Struct({
        "idempotency-key": Schema.optional(Schema.String.annotations({ description: "1–255 printable ASCII characters; a retry with the same key and body returns the first response." }))
      }))
      .addSuccess(WorkflowJson, { status: 201 })
      .addError(IdempotencyProblem)
      .annotate(OpenApi.Summary, "Create a workflow")
      .annotate(OpenApi.Transform, createdHeaders)
  )
  .add(
    HttpApiEndpoint.get("list", "/workflows")
      .setUrlParams(queryParams({
        // Validated by the service, whose message lists the statuses; the document still shows the enum.
        status: Schema.optional(Schema.String.annotations({
          description: "`active` includes legacy `running`.",
          jsonSchema: { type: "string", enum: WorkflowStatus.literals }
        })),
        ...PageParams
      }))
      .addSuccess(WorkflowPage)
      .annotate(OpenApi.Summary, "List workflows, newest first")
  )
  .add(
    HttpApiEndpoint.get("get", "/workflows/:id")
      .setPath(IdPath)
      .addSuccess(WorkflowJson)
      .addError(NotFoundProblem)
      .annotate(OpenApi.Summary, "Retrieve a workflow")
      .annotate(OpenApi.Transform, workflowHeaders)
  )
  .add(
    HttpApiEndpoint.patch("update", "/workflows/:id")
      .setPath(IdPath)
      .setPayload(PatchBody)
      .setHeaders(IfMatch)
      .addSuccess(WorkflowJson)
      .addError(NotFoundProblem)
      .addError(StatusConflictProblem)
      .addError(PreconditionProblem)
      .annotate(OpenApi.Summary, "Update a workflow")
      .annotate(OpenApi.Description, "Changes the title (alias `name`) and description. The status changes only through the lifecycle routes.")
      .annotate(OpenApi.Transform, (operation) => workflowHeaders(alsoMergePatch(operation)))
  )
  .add(lifecycle("activate", "Activate a draft workflow"))
  .add(lifecycle("pause", "Pause an active workflow"))
  .add(lifecycle("resume", "Resume a paused workflow"))
  .add(lifecycle("cancel", "Cancel a workflow"))
  .add(
    HttpApiEndpoint.get("events", "/workflows/:id/events")
      .setPath(IdPath)
      .setUrlParams(queryParams(PageParams))
      .addSuccess(WorkflowEventPage)
      .addError(NotFoundProblem)
      .annotate(OpenApi.Summary, "The workflow's audit trail, newest first")
  )
  .addError(UnsupportedMediaTypeProblem)
  .addError(PayloadTooLargeProblem)
  .middleware(Authentication)
  .prefix("/v1") {}

const Health = Schema.Struct({ status: Schema.Literal("ok") })
const Readiness = Schema.Struct({ status: Schema.Literal("ready"), database: Schema.Literal("sqlite", "postgresql") })

export class SystemGroup extends HttpApiGroup.make("system")
  .add(HttpApiEndpoint.get("healthz", "/healthz").addSuccess(Health).annotate(OpenApi.Summary, "Liveness"))
  .add(
    HttpApiEndpoint.get("readyz", "/readyz")
      .addSuccess(Readiness)
      .addError(UnavailableProblem)
      .annotate(OpenApi.Summary, "Readiness: the database answers")
  ) {}

/** The few parts of an OpenAPI document the transforms below touch. */
interface SchemaRef {
  readonly $ref?: string
  readonly anyOf?: ReadonlyArray<SchemaRef>
}
type Content = { [mediaType: string]: { schema?: SchemaRef } | undefined }
interface Header {
  readonly description: string
  readonly schema: { readonly type: "string" }
}
interface Response {
  description?: string
  headers?: { [name: string]: Header }
  content?: Content
}
interface Operation {
  requestBody?: { content?: Content; required?: boolean }
  responses?: { [status: string]: Response | undefined }
}
interface Document {
  paths?: { [path: string]: { [method: string]: Operation } }
  components?: { schemas?: { [name: string]: unknown } }
}

/** PATCH bodies may also be sent as `application/merge-patch+json`; say so in the document. */
function alsoMergePatch(input: Record<string, unknown>): Record<string, unknown> {
  const content = (input as Operation).requestBody?.content
  if (content?.["application/json"] !== undefined) content["application/merge-patch+json"] = content["application/json"]
  return input
}

/** A lifecycle call may come without a body; the framework marks every declared payload required. */
function optionalBody(input: Record<string, unknown>): Record<string, unknown> {
  const body = (input as Operation).requestBody
  if (body !== undefined) body.required = false
  return input
}

const header = (description: string): Header => ({ description, schema: { type: "string" } })
const addHeaders = (response: Response | undefined, headers: { readonly [name: string]: Header }) => {
  if (response !== undefined) response.headers = { ...response.headers, ...headers }
}

const ETAG = header('The workflow\'s version as a strong tag, `"<version>"`: send it back in `If-Match`.')

/** A workflow answered with 200 carries its `ETag`, which the handler sets. */
function workflowHeaders(input: Record<string, unknown>): Record<string, unknown> {
  addHeaders((input as Operation).responses?.["200"], { ETag: ETAG })
  return input
}

/**
 * A created workflow carries its `ETag` and `Location`. (The framework inlines a success schema
 * given another status; it is the `Workflow` schema, so the document refers to it.)
 */
function createdHeaders(input: Record<string, unknown>): Record<string, unknown> {
  const created = (input as Operation).responses?.["201"]
  const json = created?.content?.["application/json"]
  if (json !== undefined) json.schema = { $ref: "#/components/schemas/Workflow" }
  addHeaders(created, { ETag: ETAG, Location: header("The new workflow's URL.") })
  return input
}

/** Every response carries `X-Request-Id`, set by the edge where the framework cannot see it. */
function requestIdHeader(input: Record<string, unknown>): Record<string, unknown> {
  const requestId = header("The request's id: the caller's `X-Request-Id` when it is sane, else a generated one.")
  for (const path of Object.values((input as Document).paths ?? {})) {
    for (const operation of Object.values(path)) {
      for (const response of Object.values(operation.responses ?? {})) addHeaders(response, { "X-Request-Id": requestId })
    }
  }
  return input
}

/**
 * The framework documents its own decode error on every 400; this server never sends that shape
 * (the edge rewrites it into a validation problem), so the document shows ours alone.
 */
function onlyOurProblems(input: Record<string, unknown>): Record<string, unknown> {
  const spec = input as Document
  for (const name of ["HttpApiDecodeError", "Issue", "PropertyKey"]) delete spec.components?.schemas?.[name]
  for (const path of Object.values(spec.paths ?? {})) {
    for (const operation of Object.values(path)) {
      const badRequest = operation.responses?.["400"]
      if (badRequest === undefined) continue
      const schema = badRequest.content?.["application/json"]?.schema ?? badRequest.content?.["application/problem+json"]?.schema
      const ours = (schema?.anyOf ?? (schema === undefined ? [] : [schema])).filter(
        (s) => s.$ref !== "#/components/schemas/HttpApiDecodeError"
      )
      badRequest.description = "Validation failed"
      badRequest.content = { "application/problem+json": { schema: ours.length === 1 ? ours[0]! : { anyOf: ours } } }
    }
  }
  return input
}

export class WorkflowsApi extends HttpApi.make("workflows")
  .add(SystemGroup)
  .add(WorkflowsGroup)
  .addError(ValidationProblem)
  .annotate(OpenApi.Title, "Workflows")
  .annotate(OpenApi.Version, "1.0.0")
  .annotate(OpenApi.Description, "The workflow record of the outbound-calling platform: create, read, update, lifecycle and audit trail.")
  .annotate(OpenApi.Transform, (document) => requestIdHeader(onlyOurProblems(document))) {}

