import { type Workflow, WorkflowJson } from "@workflows/domain"
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
  const wire = {
    id: workflow.id,
    organization_id: workflow.organization_id,
    title: workflow.title,
    name: workflow.title,
    description: workflow.description,
    status: workflow.status,
    node_count: workflow.node_count,
    edge_count: workflow.edge_count,
    enrolled_leads: workflow.enrolled_leads,
    version: workflow.version,
    created_at: DateTime.formatIso(workflow.created_at),
    updated_at: DateTime.formatIso(workflow.updated_at)
  }
  return isWire(wire) ? Either.right(wire) : encodeBySchema(workflow)
}
