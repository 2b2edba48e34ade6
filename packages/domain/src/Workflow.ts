import { Schema } from "effect"
import { OrganizationId, WorkflowId } from "./WorkflowId.js"
import { WorkflowStatus } from "./WorkflowStatus.js"

const Count = Schema.Int.pipe(Schema.greaterThanOrEqualTo(0))

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
  version: Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)),
  created_at: Schema.DateTimeUtc,
  updated_at: Schema.DateTimeUtc
}) {
  /** The strong validator clients send back in `If-Match`. */
  get etag(): string {
    return etagOf(this.version)
  }
}

export const etagOf = (version: number): string => `"${version}"`

/**
 * The wire form: the reference page calls the display name both `title` and `name`,
 * so every response carries both with the same value and clients of either reading work.
 */
export const WorkflowJson = Schema.transform(
  Schema.Struct({
    id: Schema.String,
    organization_id: Schema.String,
    title: Schema.String,
    name: Schema.String,
    description: Schema.NullOr(Schema.String),
    status: WorkflowStatus,
    node_count: Schema.Number,
    edge_count: Schema.Number,
    enrolled_leads: Schema.Number,
    version: Schema.Number,
    created_at: Schema.String,
    updated_at: Schema.String
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
