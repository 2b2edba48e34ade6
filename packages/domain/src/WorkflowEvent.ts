import { Schema } from "effect"
import { Timestamp } from "./Workflow.js"
import { EventId, OrganizationId, WorkflowId } from "./WorkflowId.js"

export const WorkflowEventType = Schema.Literal(
  "workflow.created",
  "workflow.updated",
  "workflow.activated",
  "workflow.paused",
  "workflow.resumed",
  "workflow.cancelled",
  "workflow.completed"
).annotations({ identifier: "WorkflowEventType" })
export type WorkflowEventType = typeof WorkflowEventType.Type

/** Who made a change: an API key (by its id, never the secret) or the system itself. */
export const Actor = Schema.Union(
  Schema.Struct({ type: Schema.Literal("api_key"), id: Schema.String }),
  Schema.Struct({ type: Schema.Literal("system") })
).annotations({ identifier: "Actor" })
export type Actor = typeof Actor.Type

export const systemActor: Actor = { type: "system" }

/** Every field a change touched, from its old value to its new one (`null` for "none"). */
export const Changes = Schema.Record({
  key: Schema.String,
  value: Schema.Struct({ from: Schema.NullOr(Schema.String), to: Schema.NullOr(Schema.String) })
}).annotations({ identifier: "Changes" })
export type Changes = typeof Changes.Type

/** One entry of the append-only audit trail (docs/CONTRACT.md §6). */
export class WorkflowEvent extends Schema.Class<WorkflowEvent>("WorkflowEvent")({
  id: EventId,
  workflow_id: WorkflowId,
  organization_id: OrganizationId,
  type: WorkflowEventType,
  actor: Actor,
  request_id: Schema.NullOr(Schema.String),
  reason: Schema.NullOr(Schema.String),
  changes: Changes,
  created_at: Timestamp
}) {}
