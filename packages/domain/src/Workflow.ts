import { DateTime, Schema } from "effect"
import { OrganizationId, WorkflowId } from "./WorkflowId.js"
import { WorkflowStatus } from "./WorkflowStatus.js"

/**
 * A whole number of at least `min`: one message for every way to miss it, and documented as
 * `{ type: integer, minimum }` (the built-in filters would show internal titles in the document).
 */
export const integerFrom = (min: number) => {
  const message = () => `must be an integer of at least ${min}`
  return Schema.Number.annotations({ message }).pipe(
    Schema.filter((n) => Number.isSafeInteger(n) && n >= min, {
      message,
      jsonSchema: { type: "integer", minimum: min }
    })
  )
}

export const Count = integerFrom(0).annotations({ description: "Read-only here; owned by another service." })
export const Version = integerFrom(1).annotations({
  description: "Bumped by every change; the ETag is `\"<version>\"`."
})

/** An ISO-8601 UTC timestamp with milliseconds, as every response carries it. */
export const Timestamp = Schema.DateTimeUtc.annotations({ jsonSchema: { type: "string", format: "date-time" } })

/** The workflow record (docs/CONTRACT.md §1), as the service stores and returns it. */
export class Workflow extends Schema.Class<Workflow>("Workflow")({
  id: WorkflowId,
  organization_id: OrganizationId,
  title: Schema.String,
  description: Schema.NullOr(Schema.String),
  status: WorkflowStatus,
  node_count: Count,
  edge_count: Count,
  enrolled_leads: Count,
  version: Version,
  created_at: Timestamp,
  updated_at: Timestamp
}) {
  /** The strong validator clients send back in `If-Match`. */
  get etag(): string {
    return etagOf(this.version)
  }
}

export const etagOf = (version: number): string => `"${version}"`

/**
 * The record's encoded form (timestamps as ISO strings), field by field and unchecked: what
 * `Schema.encode(Workflow)` gives for a valid record, without validating it twice. Storage and
 * the wire form build on it and check the result with `Schema.is`; the field list lives here only.
 */
export const encodeWorkflowUnchecked = (workflow: Workflow): typeof Workflow.Encoded => ({
  id: workflow.id,
  organization_id: workflow.organization_id,
  title: workflow.title,
  description: workflow.description,
  status: workflow.status,
  node_count: workflow.node_count,
  edge_count: workflow.edge_count,
  enrolled_leads: workflow.enrolled_leads,
  version: workflow.version,
  created_at: DateTime.formatIso(workflow.created_at),
  updated_at: DateTime.formatIso(workflow.updated_at)
})

const { id: _id, organization_id: _org, created_at: _created, updated_at: _updated, ...plainFields } = Workflow.fields
const TimestampJson = Schema.String.annotations({ jsonSchema: { type: "string", format: "date-time" } })

/**
 * The wire form: the reference page calls the display name both `title` and `name`,
 * so every response carries both with the same value and clients of either reading work.
 * Built from the record's own fields, so the document shows their integers, bounds and patterns.
 */
export const WorkflowJson = Schema.transform(
  Schema.Struct({
    id: Schema.encodedBoundSchema(Workflow.fields.id),
    organization_id: Schema.encodedBoundSchema(Workflow.fields.organization_id),
    title: plainFields.title,
    name: plainFields.title.annotations({ description: "The same value as `title`." }),
    description: plainFields.description,
    status: plainFields.status,
    node_count: plainFields.node_count,
    edge_count: plainFields.edge_count,
    enrolled_leads: plainFields.enrolled_leads,
    version: plainFields.version,
    created_at: TimestampJson,
    updated_at: TimestampJson
  }),
  Workflow,
  {
    strict: true,
    decode: ({ name: _name, ...record }) => record,
    encode: (record) => ({
      id: record.id,
      organization_id: record.organization_id,
      title: record.title,
      name: record.title,
      description: record.description,
      status: record.status,
      node_count: record.node_count,
      edge_count: record.edge_count,
      enrolled_leads: record.enrolled_leads,
      version: record.version,
      created_at: record.created_at,
      updated_at: record.updated_at
    })
  }
).annotations({ identifier: "Workflow" })
