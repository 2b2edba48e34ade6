import { Schema } from "effect"
import { actionTargets, LifecycleActionName } from "./LifecycleAction.js"
import { RequestStatus, sameStatus, WorkflowStatus } from "./WorkflowStatus.js"

/** One problem with a request: the field it concerns (`null` for the body as a whole) and the rule it broke. */
export const FieldError = Schema.Struct({
  field: Schema.NullOr(Schema.String),
  message: Schema.String
}).annotations({ identifier: "FieldError" })
export type FieldError = typeof FieldError.Type

/** The workflow does not exist, or belongs to another organization: callers must not tell the two apart. */
export class WorkflowNotFound extends Schema.TaggedError<WorkflowNotFound>()("WorkflowNotFound", {
  id: Schema.String
}) {
  override get message(): string {
    return `No workflow with id ${JSON.stringify(this.id)} exists.`
  }
}

/** The request broke one or more rules; every problem is listed, each with its field. */
export class WorkflowValidationError extends Schema.TaggedError<WorkflowValidationError>()("WorkflowValidationError", {
  errors: Schema.NonEmptyArray(FieldError)
}) {
  override get message(): string {
    return this.errors.map((e) => (e.field === null ? e.message : `${e.field}: ${e.message}`)).join("; ")
  }
}

export const validationError = (errors: readonly [FieldError, ...Array<FieldError>]): WorkflowValidationError =>
  new WorkflowValidationError({ errors })

/** A status change was asked of something that cannot make it. */
export class WorkflowStatusConflict extends Schema.TaggedError<WorkflowStatusConflict>()("WorkflowStatusConflict", {
  current_status: WorkflowStatus,
  requested_status: RequestStatus,
  allowed_actions: Schema.Array(LifecycleActionName)
}) {
  override get message(): string {
    const allowed = this.allowed_actions.length === 0
      ? `${this.current_status} is a final status: no lifecycle action applies`
      : `allowed actions: ${this.allowed_actions.join(", ")}`
    const way = this.allowed_actions.find((action) => sameStatus(actionTargets[action], this.requested_status))
    // Asked as a change of status (a PATCH), the target may well be reachable: say which action gets there.
    return way === undefined
      ? `The workflow is ${this.current_status} and cannot become ${this.requested_status} (${allowed}).`
      : `The workflow is ${this.current_status}; it becomes ${this.requested_status} through the ${way} action, not by setting its status (${allowed}).`
  }
}

/** How much of a caller's `If-Match` the message quotes: a 15 KB header must not make a 15 KB answer. */
const IF_MATCH_QUOTED = 64

/** `If-Match` named a version that is no longer the current one. */
export class WorkflowPreconditionFailed extends Schema.TaggedError<WorkflowPreconditionFailed>()(
  "WorkflowPreconditionFailed",
  {
    if_match: Schema.String,
    current_etag: Schema.String
  }
) {
  override get message(): string {
    const sent = Array.from(this.if_match)
    const quoted = sent.length <= IF_MATCH_QUOTED ? this.if_match : `${sent.slice(0, IF_MATCH_QUOTED).join("")}…`
    return `If-Match ${quoted} does not match the current ETag ${this.current_etag}; read the workflow again.`
  }
}

/** An `Idempotency-Key` was reused for a request with a different body. */
export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>()("IdempotencyKeyReused", {
  key: Schema.String
}) {
  override get message(): string {
    return "This Idempotency-Key was already used with a different request body."
  }
}

/** No usable credentials: missing, malformed, unknown or revoked API key. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  reason: Schema.String
}) {
  override get message(): string {
    return this.reason
  }
}
