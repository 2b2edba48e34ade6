import type {
  Actor,
  IdempotencyKeyReused,
  JsonObject,
  ListQueryInput,
  OrganizationId,
  Workflow,
  WorkflowEvent,
  WorkflowNotFound,
  WorkflowPreconditionFailed,
  WorkflowStatusConflict,
  WorkflowValidationError
} from "@workflows/domain"
import { Context, type Effect } from "effect"

/** One page of a list, newest first; `has_more` says whether `starting_after` the last item finds more. */
export interface Page<A> {
  readonly data: ReadonlyArray<A>
  readonly has_more: boolean
}

/** Who is calling: the organization whose workflows it may touch, and what the audit trail records. */
export interface Caller {
  readonly organization_id: OrganizationId
  readonly actor: Actor
  readonly request_id: string | null
}

export interface WriteOptions {
  /** An `If-Match` value: the write happens only if it names the current ETag (or is `*`). */
  readonly if_match?: string | undefined
}
export interface CreateOptions {
  readonly idempotency_key?: string | undefined
}
export interface LifecycleOptions extends WriteOptions {
  /** The optional request body, `{ reason }`. */
  readonly body?: JsonObject | undefined
}

export type LifecycleCall = (
  id: string,
  options?: LifecycleOptions
) => Effect.Effect<Workflow, WorkflowNotFound | WorkflowValidationError | WorkflowStatusConflict | WorkflowPreconditionFailed>

/**
 * The workflows of one caller: the API other services program against. The same interface is
 * provided in-process over a database (`WorkflowStore.layer`) and remotely over HTTP (`WorkflowsClient.layer`),
 * with the same typed errors; infrastructure failures are defects, never part of the error channel.
 */
export interface WorkflowsService {
  readonly create: (
    body: JsonObject,
    options?: CreateOptions
  ) => Effect.Effect<Workflow, WorkflowValidationError | IdempotencyKeyReused>
  readonly get: (id: string) => Effect.Effect<Workflow, WorkflowNotFound>
  readonly list: (query?: ListQueryInput) => Effect.Effect<Page<Workflow>, WorkflowValidationError>
  readonly update: (
    id: string,
    patch: JsonObject,
    options?: WriteOptions
  ) => Effect.Effect<Workflow, WorkflowNotFound | WorkflowValidationError | WorkflowStatusConflict | WorkflowPreconditionFailed>
  readonly activate: LifecycleCall
  readonly pause: LifecycleCall
  readonly resume: LifecycleCall
  readonly cancel: LifecycleCall
  /** Internal only: no HTTP route reaches it, and the remote client refuses it as a defect. */
  readonly complete: LifecycleCall
  readonly events: (id: string, query?: ListQueryInput) => Effect.Effect<Page<WorkflowEvent>, WorkflowNotFound | WorkflowValidationError>
}

export class Workflows extends Context.Tag("@workflows/Workflows")<Workflows, WorkflowsService>() {}
