import { type DateTime, Either, Schema } from "effect"
import {
  checkedAlongsideFields,
  decodeBody,
  isJsonObject,
  NOT_AN_OBJECT,
  optional,
  unknownField
} from "./BodyFields.js"
import { type FieldError, validationError, type WorkflowValidationError } from "./Errors.js"
import { Workflow } from "./Workflow.js"
import type { Changes } from "./WorkflowEvent.js"
import type { OrganizationId, WorkflowId } from "./WorkflowId.js"
import { READ_ONLY_FIELDS } from "./WorkflowPatch.js"
import { Description, DESCRIPTION_DOC, Title } from "./WorkflowText.js"

/** A workflow starts as a draft, or directly active when the caller says so. */
export const InitialStatus = Schema.Literal("draft", "active").annotations({
  message: (issue) => ({
    message: issue.actual === "running"
      ? "running is a legacy status and cannot be requested; use active"
      : "must be draft or active",
    override: true
  })
})
export type InitialStatus = typeof InitialStatus.Type

const CREATE_HINT = "a new workflow takes title (or its alias name), description and status"

const sent = (body: unknown, field: string): boolean =>
  isJsonObject(body) && Object.prototype.hasOwnProperty.call(body, field)

/**
 * The body of `POST /v1/workflows`, under the same text rules as a PATCH. `title` (or its alias
 * `name`) is required; when both are sent they must agree once trimmed.
 */
const NewWorkflowBody = Schema.Struct({
  title: optional(Title).annotations({
    description: "Display name, 1–200 characters after trimming, no control characters."
  }),
  name: optional(Title).annotations({ description: "Alias of `title`." }),
  description: optional(Description).annotations({ description: DESCRIPTION_DOC }),
  status: optional(InitialStatus).annotations({ description: "Initial status, `draft` by default." })
}).annotations({ message: () => NOT_AN_OBJECT }).pipe(
  // Checked on the body as sent even when another field failed, so a typo and the missing title come together.
  Schema.filter((body) => sent(body, "title") || sent(body, "name") || { path: ["title"], message: "is required" }, {
    ...checkedAlongsideFields,
    // Inside allOf: a top-level anyOf would replace the object's own schema in the generated document.
    jsonSchema: { allOf: [{ anyOf: [{ required: ["title"] }, { required: ["name"] }] }] }
  }),
  Schema.filter((body) =>
    body.title === undefined || body.name === undefined || body.title === body.name ||
    { path: ["name"], message: "is an alias of title and must equal it when both are sent" }
  )
)

export const NewWorkflow = Schema.transform(
  NewWorkflowBody,
  Schema.Struct({ title: Schema.String, description: Schema.NullOr(Schema.String), status: InitialStatus }),
  {
    strict: true,
    decode: (body) => ({
      title: body.title ?? body.name ?? "",
      description: body.description ?? null,
      status: body.status ?? "draft"
    }),
    encode: (input) => input
  }
).annotations({
  identifier: "NewWorkflow",
  description: "A new workflow. `title` (or its alias `name`) is required.",
  examples: [{ title: "Q3 Outreach", description: "Calls every lead from the spring webinar.", status: "draft" }]
})

/** A create request that passed every rule: what the new record will hold. */
export type NewWorkflow = typeof NewWorkflow.Type
/** What a caller sends to create a workflow. */
export type NewWorkflowInput = typeof NewWorkflow.Encoded

/** Decodes a create body, every problem reported at once; a read-only field is the service's to set. */
export const decodeNewWorkflow: (body: unknown) => Either.Either<NewWorkflow, WorkflowValidationError> = decodeBody(
  NewWorkflow,
  (field) =>
    (READ_ONLY_FIELDS as ReadonlyArray<string>).includes(field)
      ? { field, message: "is read-only and is set by the service" }
      : unknownField(field, CREATE_HINT)
)

const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/

/**
 * An `Idempotency-Key` is 1–255 printable ASCII characters; it names the request, so it must
 * survive any transport. A valid key is looked up before the body is judged (a retry with another
 * body is a 422 whatever that body holds); an invalid one cannot be looked up, so it is reported
 * together with every problem of the body, all at once like any other 400.
 */
export const decodeIdempotencyKey = (
  key: string | undefined,
  body: unknown
): Either.Either<string | undefined, WorkflowValidationError> => {
  if (key === undefined || IDEMPOTENCY_KEY.test(key)) return Either.right(key)
  const invalid: FieldError = { field: "Idempotency-Key", message: "must be 1 to 255 printable ASCII characters" }
  return Either.left(validationError(Either.match(decodeNewWorkflow(body), {
    onLeft: (bodyErrors) => [invalid, ...bodyErrors.errors],
    onRight: () => [invalid]
  })))
}

/** The first version of a record, and the changes its `workflow.created` event lists (from `null`). */
export const makeWorkflow = (
  input: NewWorkflow,
  meta: { readonly id: WorkflowId; readonly organization_id: OrganizationId; readonly now: DateTime.Utc }
): { readonly workflow: Workflow; readonly changes: Changes } => {
  const workflow = new Workflow({
    id: meta.id,
    organization_id: meta.organization_id,
    title: input.title,
    description: input.description,
    status: input.status,
    node_count: 0,
    edge_count: 0,
    enrolled_leads: 0,
    version: 1,
    created_at: meta.now,
    updated_at: meta.now
  })
  const changes: Record<string, { from: null; to: string }> = {
    title: { from: null, to: input.title },
    status: { from: null, to: input.status }
  }
  if (input.description !== null) changes.description = { from: null, to: input.description }
  return { workflow, changes }
}
