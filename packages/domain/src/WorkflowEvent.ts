import { DateTime, Schema } from "effect"
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

const isObject = (u: unknown): u is { readonly [key: string]: unknown } => typeof u === "object" && u !== null

/** Each change copied with its own fields (what encoding `Changes` writes); anything else passed on as it is. */
const copyChangesUnchecked = (changes: unknown): unknown => {
  if (!isObject(changes)) return changes
  const copy: Record<string, unknown> = {}
  for (const field of Object.keys(changes)) {
    const change = changes[field]
    copy[field] = isObject(change) ? { from: change.from, to: change.to } : change
  }
  return copy
}

/** The actor copied with its own fields (what encoding `Actor` writes); anything else passed on as it is. */
const copyActorUnchecked = (actor: unknown): unknown =>
  !isObject(actor) ? actor : actor.type === "api_key" ? { type: actor.type, id: actor.id } : { type: actor.type }

/** A valid actor with its own fields only, in the schema's order: what decoding or encoding `Actor` gives. */
export const copyActor = (actor: Actor): Actor => copyActorUnchecked(actor) as Actor

/** Valid changes with their own fields only: what decoding or encoding `Changes` gives. */
export const copyChanges = (changes: Changes): Changes => copyChangesUnchecked(changes) as Changes

/**
 * The event's encoded form (timestamp as an ISO string), field by field and unchecked: what
 * `Schema.encode(WorkflowEvent)` gives for a valid event, without validating it twice. Storage and
 * the wire form build on it and check the event or the result with `Schema.is`; the field list lives
 * here only. What it cannot copy (a broken actor or change) it passes on, for that check to refuse;
 * `created_at` must be a DateTime.
 */
export const encodeWorkflowEventUnchecked = (event: WorkflowEvent): typeof WorkflowEvent.Encoded => ({
  id: event.id,
  workflow_id: event.workflow_id,
  organization_id: event.organization_id,
  type: event.type,
  // Copied as encoding does, so no field the schema does not name reaches storage or the wire.
  actor: copyActorUnchecked(event.actor) as Actor,
  request_id: event.request_id,
  reason: event.reason,
  changes: copyChangesUnchecked(event.changes) as Changes,
  created_at: DateTime.formatIso(event.created_at)
})
