import { encodeWorkflowUnchecked, type Workflow, WorkflowJson } from "@workflows/domain"
import { DateTime, Either, type ParseResult, Schema } from "effect"

type WorkflowWire = typeof WorkflowJson.Encoded

const isWire = Schema.is(Schema.encodedBoundSchema(WorkflowJson))
const encodeBySchema = Schema.encodeEither(WorkflowJson)

/**
 * A workflow as a response carries it: what `Schema.encode(WorkflowJson)` gives, still checked
 * against the wire form's schema, so a value that breaks it is still a defect (a 500). The
 * schema's own encoding validates twice (the record, then the wire form) and costs several times
 * this; here the wire form is built directly and validated once. If it fails, the schema's
 * encoding runs, for its precise error (or, should this mapping ever drift from the domain's
 * while the value is valid, for the right answer). A test holds the two equal on arbitrary workflows.
 */
export const encodeWorkflowJson = (workflow: Workflow): Either.Either<WorkflowWire, ParseResult.ParseError> => {
  if (!DateTime.isDateTime(workflow.created_at) || !DateTime.isDateTime(workflow.updated_at)) {
    return encodeBySchema(workflow)
  }
  // `name` beside `title`, in the order the schema's encoding writes the fields.
  const { id, organization_id, title, ...rest } = encodeWorkflowUnchecked(workflow)
  const wire = { id, organization_id, title, name: title, ...rest }
  return isWire(wire) ? Either.right(wire) : encodeBySchema(workflow)
}
