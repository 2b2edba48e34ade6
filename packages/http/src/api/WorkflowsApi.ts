import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as OpenApi from "@effect/platform/OpenApi"
import {
  EventQuery,
  LifecycleRequest,
  ListQuery,
  NewWorkflow,
  type Principal,
  WorkflowEvent,
  WorkflowJson,
  WorkflowPatch
} from "@workflows/domain"
import { Context, JSONSchema, Option, Schema, SchemaAST } from "effect"
import {
  createdResponse,
  documentHeaders,
  headersTooLarge,
  lifecycleBodyOptional,
  mergePatchToo,
  onlyOurProblems,
  requestExamples,
  workflowResponse
} from "./OpenApiTransforms.js"
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
  security: {
    bearer: HttpApiSecurity.bearer.pipe(HttpApiSecurity.annotate(OpenApi.Description, "An API key: `wfk_…`"))
  }
}) {}

/**
 * A request body on the wire: the domain schema's encoded side with every refinement a JSON Schema
 * can state (types, bounds, unknown fields, a required title), so the document and the typed
 * client's input type come from the same schema the service decodes with. The handlers read and
 * decode bodies themselves (413 before parsing, merge-patch, every problem at once).
 */
const wire = <A, I>(schema: Schema.Schema<A, I>, identifier: string) => {
  const description = Option.getOrUndefined(SchemaAST.getDescriptionAnnotation(schema.ast))
  const examples = Option.getOrUndefined(SchemaAST.getExamplesAnnotation(schema.ast))
  return Schema.encodedBoundSchema(schema).annotations({
    identifier,
    ...(description === undefined ? {} : { description }),
    ...(examples === undefined ? {} : { examples: examples as never })
  })
}

export const PatchBody = wire(WorkflowPatch, "WorkflowPatch")
export const CreateBody = wire(NewWorkflow, "NewWorkflow")
export const LifecycleBody = wire(LifecycleRequest, "LifecycleRequest")

const page = <S extends Schema.Schema.Any>(item: S, identifier: string) =>
  Schema.Struct({ data: Schema.Array(item), has_more: Schema.Boolean }).annotations({ identifier })

export const WorkflowPage = page(WorkflowJson, "WorkflowPage")
export const WorkflowEventPage = page(WorkflowEvent, "WorkflowEventPage")

const IdPath = Schema.Struct({
  id: Schema.String.annotations({ description: "A workflow id, `wfl_…` (or legacy `wf_…`)." })
})
const IfMatch = Schema.Struct({
  "if-match": Schema.optional(Schema.String.annotations({ description: "The ETag you read, `\"<version>\"`, or `*`." }))
})

/**
 * Query parameters arrive as text and are judged by the service with the domain's schema (its
 * messages name the bounds); the framework only refuses unknown or repeated ones. Each is
 * documented as the domain schema states it (an integer 1–100, the status enum, the cursor pattern).
 */
const queryParams = <Fields extends Schema.Struct.Fields>(documented: Schema.Struct<Fields>) =>
  Schema.Struct(
    Object.fromEntries(
      Object.entries(documented.fields).map(([name, field]) => {
        const object = JSONSchema.make(Schema.Struct({ [name]: field })) as {
          readonly properties: Record<string, object>
        }
        return [name, Schema.optional(Schema.String.annotations({ jsonSchema: object.properties[name]! }))]
      })
    ) as { readonly [K in keyof Fields]: Schema.optional<typeof Schema.String> }
  )
    // A misspelt query parameter (`?limt=5`) is an error naming it, not a silently ignored option.
    .annotations({ parseOptions: { onExcessProperty: "error", errors: "all" } })

const lifecycle = <const Name extends string>(name: Name, summary: string) =>
  HttpApiEndpoint.post(name, `/workflows/:id/${name}`)
    .setPath(IdPath)
    .setPayload(LifecycleBody)
    .setHeaders(IfMatch)
    .addSuccess(WorkflowJson)
    .addError(NotFoundProblem)
    .addError(StatusConflictProblem)
    .addError(PreconditionProblem)
    .addError(UnsupportedMediaTypeProblem)
    .addError(PayloadTooLargeProblem)
    .annotate(OpenApi.Summary, summary)
    .annotate(OpenApi.Transform, (operation) => workflowResponse(lifecycleBodyOptional(operation)))

/** Exported for the client, which also sends it with a body only the server judges (see WorkflowsClient). */
export const CreateEndpoint = HttpApiEndpoint.post("create", "/workflows")
  .setPayload(CreateBody)
  .setHeaders(Schema.Struct({
    "idempotency-key": Schema.optional(
      Schema.String.annotations({
        description: "1–255 printable ASCII characters; a retry with the same key and body returns the first response."
      })
    )
  }))
  .addSuccess(WorkflowJson, { status: 201 })
  .addError(IdempotencyProblem)
  .addError(UnsupportedMediaTypeProblem)
  .addError(PayloadTooLargeProblem)
  .annotate(OpenApi.Summary, "Create a workflow")
  .annotate(OpenApi.Transform, createdResponse)

export class WorkflowsGroup extends HttpApiGroup.make("workflows")
  .add(CreateEndpoint)
  .add(
    HttpApiEndpoint.get("list", "/workflows")
      .setUrlParams(queryParams(ListQuery))
      .addSuccess(WorkflowPage)
      .annotate(OpenApi.Summary, "List workflows, newest first")
  )
  .add(
    HttpApiEndpoint.get("get", "/workflows/:id")
      .setPath(IdPath)
      .addSuccess(WorkflowJson)
      .addError(NotFoundProblem)
      .annotate(OpenApi.Summary, "Retrieve a workflow")
      .annotate(OpenApi.Transform, workflowResponse)
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
      .addError(UnsupportedMediaTypeProblem)
      .addError(PayloadTooLargeProblem)
      .annotate(OpenApi.Summary, "Update a workflow")
      .annotate(
        OpenApi.Description,
        "Changes the title (alias `name`) and description. The status changes only through the lifecycle routes."
      )
      .annotate(OpenApi.Transform, (operation) => workflowResponse(mergePatchToo(operation)))
  )
  .add(lifecycle("activate", "Activate a draft workflow"))
  .add(lifecycle("pause", "Pause an active workflow"))
  .add(lifecycle("resume", "Resume a paused workflow"))
  .add(lifecycle("cancel", "Cancel a workflow"))
  .add(
    HttpApiEndpoint.get("events", "/workflows/:id/events")
      .setPath(IdPath)
      .setUrlParams(queryParams(EventQuery))
      .addSuccess(WorkflowEventPage)
      .addError(NotFoundProblem)
      .annotate(OpenApi.Summary, "The workflow's audit trail, newest first")
  )
  // Every /v1 route reads the database: while it is down or locked the answer is a 503 to retry.
  .addError(UnavailableProblem)
  .middleware(Authentication)
  .prefix("/v1")
  .annotate(
    OpenApi.Description,
    "Workflows of the caller's organization: create, read, edit, move through the lifecycle, and read the audit trail. Every route needs an API key."
  )
{}

const Health = Schema.Struct({ status: Schema.Literal("ok") })
const Readiness = Schema.Struct({ status: Schema.Literal("ready"), database: Schema.Literal("sqlite", "postgresql") })

export class SystemGroup extends HttpApiGroup.make("system")
  .add(HttpApiEndpoint.get("healthz", "/healthz").addSuccess(Health).annotate(OpenApi.Summary, "Liveness"))
  .add(
    HttpApiEndpoint.get("readyz", "/readyz")
      .addSuccess(Readiness)
      .addError(UnavailableProblem)
      .annotate(OpenApi.Summary, "Readiness: the database answers")
  )
  .add(
    HttpApiEndpoint.get("metrics", "/metrics")
      .addSuccess(
        HttpApiSchema.Text({ contentType: "text/plain" }).annotations({
          description: "Prometheus text exposition format, version 0.0.4"
        })
      )
      .annotate(OpenApi.Summary, "Metrics for Prometheus")
      .annotate(
        OpenApi.Description,
        "Request counts and durations by method, route template and status; database failures by kind; pool use on PostgreSQL; process memory, CPU and event-loop delay. Labels never carry ids or organizations. No key needed, like `/healthz`."
      )
  )
  .annotate(OpenApi.Description, "Liveness, readiness and metrics; no key needed.")
{}

export class WorkflowsApi extends HttpApi.make("workflows")
  .add(SystemGroup)
  .add(WorkflowsGroup)
  .addError(ValidationProblem)
  .annotate(OpenApi.Title, "Workflows")
  .annotate(OpenApi.Version, "1.0.0")
  .annotate(
    OpenApi.Description,
    "The workflow record of the outbound-calling platform: create, read, update, lifecycle and audit trail."
  )
  // OpenAPI 3.1 names a license by SPDX identifier; the framework's type predates that field.
  .annotate(
    OpenApi.License,
    { name: "Proprietary", identifier: "LicenseRef-Proprietary" } as OpenApi.OpenAPISpecLicense
  )
  .annotate(OpenApi.Servers, [{ url: "/", description: "The server that serves this document" }])
  .annotate(
    OpenApi.Transform,
    (document) => documentHeaders(headersTooLarge(requestExamples(onlyOurProblems(document))))
  )
{}
