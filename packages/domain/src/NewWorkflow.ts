import { DateTime, Either, Schema } from "effect"
import { isJsonObject, notAnObject, presentFields, readField, unknownField } from "./BodyFields.js"
import { type FieldError, validationError, type WorkflowValidationError } from "./Errors.js"
import { Workflow } from "./Workflow.js"
import type { Changes } from "./WorkflowEvent.js"
import type { OrganizationId, WorkflowId } from "./WorkflowId.js"
import { READ_ONLY_FIELDS } from "./WorkflowPatch.js"
import { decodeDescription, decodeTitle } from "./WorkflowText.js"

/** A workflow starts as a draft, or directly active when the caller says so. */
export const InitialStatus = Schema.Literal("draft", "active")
export type InitialStatus = typeof InitialStatus.Type

/** A create request that passed every rule: what the new record will hold. */
export interface NewWorkflow {
  readonly title: string
  readonly description: string | null
  readonly status: InitialStatus
}

const CREATE_HINT = "a new workflow takes title (or its alias name), description and status"

const decodeInitialStatus = (value: unknown): Either.Either<InitialStatus, string> => {
  if (value === "draft" || value === "active") return Either.right(value)
  if (value === "running") return Either.left("running is a legacy status and cannot be requested; use active")
  return Either.left("must be draft or active")
}

/** The body of `POST /v1/workflows`, under the same text rules as a PATCH; every problem reported at once. */
export const decodeNewWorkflow = (body: unknown): Either.Either<NewWorkflow, WorkflowValidationError> => {
  if (!isJsonObject(body)) return Either.left(validationError([notAnObject]))
  const errors: Array<FieldError> = []
  const titles: Array<string> = []
  let description: string | null = null
  let status: InitialStatus = "draft"
  const take = <A>(field: string, decoded: Either.Either<A, string>, set: (a: A) => void) =>
    Either.match(decoded, { onLeft: (message) => errors.push({ field, message }), onRight: set })

  for (const field of presentFields(body)) {
    const value = readField(body, field)
    if (field === "title" || field === "name") take(field, decodeTitle(value), (t) => titles.push(t))
    else if (field === "description") take(field, decodeDescription(value), (d) => (description = d))
    else if (field === "status") take(field, decodeInitialStatus(value), (s) => (status = s))
    else if ((READ_ONLY_FIELDS as ReadonlyArray<string>).includes(field)) {
      errors.push({ field, message: "is read-only and is set by the service" })
    } else errors.push(unknownField(field, CREATE_HINT))
  }
  const [title, alias] = titles
  if (title === undefined && !errors.some((e) => e.field === "title" || e.field === "name")) {
    errors.push({ field: "title", message: "is required" })
  }
  if (title !== undefined && alias !== undefined && title !== alias) {
    errors.push({ field: "name", message: "is an alias of title and must equal it when both are sent" })
  }
  if (errors.length > 0 || title === undefined) return Either.left(validationError(errors as [FieldError, ...Array<FieldError>]))
  return Either.right({ title, description, status })
}

const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/

/**
 * An `Idempotency-Key` is 1–255 printable ASCII characters; it names the request, so it must
 * survive any transport. A valid key is looked up before the body is judged (a retry with another
 * body is a 422 whatever that body holds); an invalid one cannot be looked up, so it is reported
 * together with every problem of the body, all at once like any other 400.
 */
export const decodeIdempotencyKey = (key: string | undefined, body: unknown): Either.Either<string | undefined, WorkflowValidationError> => {
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
