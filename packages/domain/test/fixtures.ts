import {
  applyPatch,
  decodePatch,
  OrganizationId,
  type PatchOutcome,
  Workflow,
  WorkflowId,
  WorkflowJson,
  type WorkflowPatch,
  type WorkflowStatus,
  type WorkflowStatusConflict,
  type WorkflowValidationError
} from "@workflows/domain"
import { DateTime, Either, Schema } from "effect"

export const CREATED = "2024-03-01T09:00:00.000Z"
export const UPDATED = "2024-03-02T11:00:00.000Z"
export const NOW = DateTime.unsafeMake("2024-05-05T12:34:56.789Z")

/** A stored record like the reference page's first response, with any field overridden. */
export const stored = (
  overrides: Partial<{
    id: string
    organization_id: string
    title: string
    description: string | null
    status: WorkflowStatus
    node_count: number
    edge_count: number
    enrolled_leads: number
    version: number
    created_at: string
    updated_at: string
  }> = {}
): Workflow => {
  const fields = {
    id: "wf_abc123",
    organization_id: "org_xyz",
    title: "Lead Nurture Sequence",
    description: "Contacts cold leads three times before marking as unresponsive." as string | null,
    status: "active" as WorkflowStatus,
    node_count: 5,
    edge_count: 6,
    enrolled_leads: 420,
    version: 3,
    created_at: CREATED,
    updated_at: UPDATED,
    ...overrides
  }
  return new Workflow({
    ...fields,
    id: WorkflowId.make(fields.id),
    organization_id: OrganizationId.make(fields.organization_id),
    created_at: DateTime.unsafeMake(fields.created_at),
    updated_at: DateTime.unsafeMake(fields.updated_at)
  })
}

/** Decodes a body that the test expects to be valid, failing loudly otherwise. */
export const validPatch = (body: unknown): WorkflowPatch => {
  const decoded = decodePatch(body)
  if (Either.isLeft(decoded)) throw new Error(`expected a valid patch, got: ${decoded.left.message}`)
  return decoded.right
}

/** The validation errors of a body the test expects to be rejected at decode time. */
export const decodeErrors = (
  body: unknown
): ReadonlyArray<{ readonly field: string | null; readonly message: string }> => {
  const decoded = decodePatch(body)
  if (Either.isRight(decoded)) throw new Error(`expected the body to be rejected: ${JSON.stringify(body)}`)
  return decoded.left.errors
}

export const apply = (
  current: Workflow,
  body: unknown,
  now: DateTime.Utc = NOW
): Either.Either<PatchOutcome, WorkflowStatusConflict | WorkflowValidationError> =>
  applyPatch(current, validPatch(body), now)

export const changed = (current: Workflow, body: unknown) => {
  const outcome = apply(current, body)
  if (Either.isLeft(outcome)) throw new Error(`expected a change, got ${outcome.left._tag}: ${outcome.left.message}`)
  if (outcome.right._tag !== "Changed") throw new Error("expected Changed, got Unchanged")
  return outcome.right
}

export const rejected = (current: Workflow, body: unknown): WorkflowStatusConflict | WorkflowValidationError => {
  const outcome = apply(current, body)
  if (Either.isRight(outcome)) throw new Error(`expected a rejection, got ${outcome.right._tag}`)
  return outcome.left
}

export const fieldsOf = (errors: ReadonlyArray<{ readonly field: string | null }>) => errors.map((e) => e.field)

/** What a GET returns for the record, parsed the way a client would hold it. */
export const asRead = (workflow: Workflow): Record<string, unknown> =>
  JSON.parse(JSON.stringify(Schema.encodeSync(WorkflowJson)(workflow))) as Record<string, unknown>
