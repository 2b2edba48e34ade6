import type {
  Actor,
  EventQueryInput,
  IdempotencyKeyReused,
  LifecycleRequestInput,
  ListQueryInput,
  NewWorkflowInput,
  OrganizationId,
  Workflow,
  WorkflowEvent,
  WorkflowNotFound,
  WorkflowPatchInput,
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
export interface LifecycleOptions<Body = LifecycleRequestInput> extends WriteOptions {
  /** The optional request body, `{ reason }`. */
  readonly body?: Body | undefined
}

export type LifecycleCall<Body = LifecycleRequestInput> = (
  id: string,
  options?: LifecycleOptions<Body>
) => Effect.Effect<
  Workflow,
  WorkflowNotFound | WorkflowValidationError | WorkflowStatusConflict | WorkflowPreconditionFailed
>

/** The calls, over the types of what callers send; every input is still validated at run time. */
export interface WorkflowsCalls<Create, Patch, Query, EventQuery, LifecycleBody> {
  readonly create: (
    body: Create,
    options?: CreateOptions
  ) => Effect.Effect<Workflow, WorkflowValidationError | IdempotencyKeyReused>
  readonly get: (id: string) => Effect.Effect<Workflow, WorkflowNotFound>
  readonly list: (query?: Query) => Effect.Effect<Page<Workflow>, WorkflowValidationError>
  readonly update: (
    id: string,
    patch: Patch,
    options?: WriteOptions
  ) => Effect.Effect<
    Workflow,
    WorkflowNotFound | WorkflowValidationError | WorkflowStatusConflict | WorkflowPreconditionFailed
  >
  readonly activate: LifecycleCall<LifecycleBody>
  readonly pause: LifecycleCall<LifecycleBody>
  readonly resume: LifecycleCall<LifecycleBody>
  readonly cancel: LifecycleCall<LifecycleBody>
  /** Internal only: no HTTP route reaches it, and the remote client refuses it as a defect. */
  readonly complete: LifecycleCall<LifecycleBody>
  readonly events: (
    id: string,
    query?: EventQuery
  ) => Effect.Effect<Page<WorkflowEvent>, WorkflowNotFound | WorkflowValidationError>
}

/**
 * The workflows of one caller: the API other services program against. The same interface is
 * provided in-process over a database (`WorkflowStore.layer`) and remotely over HTTP (`WorkflowsClient.layer`),
 * with the same typed errors; infrastructure failures are defects, never part of the error channel.
 * Inputs take the request schemas' encoded types, so a misspelt field or a wrong type does not compile;
 * ids stay plain strings, checked at run time.
 */
export type WorkflowsService = WorkflowsCalls<
  NewWorkflowInput,
  WorkflowPatchInput,
  ListQueryInput,
  EventQueryInput,
  LifecycleRequestInput
>

/** The same calls for input nobody type-checked (a request body, a query string): the service validates it all. */
export type UncheckedWorkflows = WorkflowsCalls<unknown, unknown, unknown, unknown, unknown>

export class Workflows extends Context.Tag("@workflows/Workflows")<Workflows, WorkflowsService>() {}
