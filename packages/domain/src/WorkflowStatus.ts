import { Schema } from "effect"
import { WORKFLOW_STATUSES } from "./Constants.js"

/** Every status a stored record can hold, including the legacy `running`. */
export const WorkflowStatus = Schema.Literal(...WORKFLOW_STATUSES).annotations({
  identifier: "WorkflowStatus",
  description: "Lifecycle status. Older records may say `running`; treat it like `active`."
})
export type WorkflowStatus = typeof WorkflowStatus.Type

/** The statuses a request may name: `running` is readable but never written again. */
export const RequestStatus = Schema.Literal("draft", "active", "paused", "completed", "cancelled").annotations({
  identifier: "RequestStatus"
})
export type RequestStatus = typeof RequestStatus.Type

export const isWorkflowStatus: (u: unknown) => u is WorkflowStatus = Schema.is(WorkflowStatus)
export const isRequestStatus: (u: unknown) => u is RequestStatus = Schema.is(RequestStatus)

/**
 * `running` is the old name of `active`: every rule compares statuses through this,
 * so old records behave exactly like new ones while responses keep the stored value.
 */
export const canonical = (status: WorkflowStatus): RequestStatus => (status === "running" ? "active" : status)

export const sameStatus = (a: WorkflowStatus, b: WorkflowStatus): boolean => canonical(a) === canonical(b)
