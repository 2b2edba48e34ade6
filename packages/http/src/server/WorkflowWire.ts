import {
  encodeWorkflowEventUnchecked,
  encodeWorkflowUnchecked,
  guard,
  type Workflow,
  WorkflowEvent,
  WorkflowJson
} from "@workflows/domain"
import { DateTime, Either, type ParseResult, Schema } from "effect"

type WorkflowWire = typeof WorkflowJson.Encoded
type WorkflowEventWire = typeof WorkflowEvent.Encoded

const isWire = guard(Schema.encodedBoundSchema(WorkflowJson))
const encodeBySchema = Schema.encodeEither(WorkflowJson)
const isEventWire = guard(Schema.encodedBoundSchema(WorkflowEvent))
const encodeEventBySchema = Schema.encodeEither(WorkflowEvent)

/** What the schemas' `Timestamp` accepts: a UTC DateTime (formatting anything else would throw or differ). */
const isUtc = (u: unknown) => DateTime.isDateTime(u) && DateTime.isUtc(u)

/**
 * A workflow as a response carries it: what `Schema.encode(WorkflowJson)` gives, still checked
 * against the wire form's schema, so a value that breaks it is still a defect (a 500). The
 * schema's own encoding validates twice (the record, then the wire form) and costs several times
 * this; here the wire form is built directly and validated once. If it fails, the schema's
 * encoding runs, for its precise error (or, should this mapping ever drift from the domain's
 * while the value is valid, for the right answer). A test holds the two equal on arbitrary workflows.
 */
export const encodeWorkflowJson = (workflow: Workflow): Either.Either<WorkflowWire, ParseResult.ParseError> => {
  if (!isUtc(workflow.created_at) || !isUtc(workflow.updated_at)) return encodeBySchema(workflow)
  // `name` beside `title`, in the order the schema's encoding writes the fields.
  const { id, organization_id, title, ...rest } = encodeWorkflowUnchecked(workflow)
  const wire = { id, organization_id, title, name: title, ...rest }
  return isWire(wire) ? Either.right(wire) : encodeBySchema(workflow)
}

/**
 * An event as a response carries it: what `Schema.encode(WorkflowEvent)` gives, built directly and
 * validated once, as `encodeWorkflowJson` does for a workflow (and with the same fallback).
 */
export const encodeWorkflowEventJson = (
  event: WorkflowEvent
): Either.Either<WorkflowEventWire, ParseResult.ParseError> => {
  if (!isUtc(event.created_at)) return encodeEventBySchema(event)
  const wire = encodeWorkflowEventUnchecked(event)
  return isEventWire(wire) ? Either.right(wire) : encodeEventBySchema(event)
}
