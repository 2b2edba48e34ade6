import { Data, type DateTime, Either } from "effect"
import { WorkflowStatusConflict } from "./Errors.js"
import { actionTargets, HttpLifecycleAction, type LifecycleActionName } from "./LifecycleAction.js"
import { Workflow } from "./Workflow.js"
import type { Changes, WorkflowEventType } from "./WorkflowEvent.js"
import { type RequestStatus, sameStatus, type WorkflowStatus } from "./WorkflowStatus.js"

export type LifecycleAction = LifecycleActionName

/** docs/CONTRACT.md §3, read row by row: each action, the statuses it leaves from, and where it lands. */
export const machine: {
  readonly [A in LifecycleAction]: { readonly from: ReadonlyArray<WorkflowStatus>; readonly to: RequestStatus }
} = {
  activate: { from: ["draft"], to: actionTargets.activate },
  pause: { from: ["active", "running"], to: actionTargets.pause },
  resume: { from: ["paused"], to: actionTargets.resume },
  cancel: { from: ["draft", "active", "running", "paused"], to: actionTargets.cancel },
  complete: { from: ["active", "running"], to: actionTargets.complete }
}

/** The actions a client can call over HTTP; `complete` is for internal callers only. */
export const httpActions: ReadonlyArray<LifecycleAction> = HttpLifecycleAction.literals

export const targetOf = (action: LifecycleAction): RequestStatus => machine[action].to

/** The audit event each action writes. */
export const eventType: { readonly [A in LifecycleAction]: WorkflowEventType } = {
  activate: "workflow.activated",
  pause: "workflow.paused",
  resume: "workflow.resumed",
  cancel: "workflow.cancelled",
  complete: "workflow.completed"
}

export type Transition = Data.TaggedEnum<{
  Moved: { readonly from: WorkflowStatus; readonly to: RequestStatus }
  Unchanged: { readonly status: WorkflowStatus }
}>
export const Transition = Data.taggedEnum<Transition>()

const moves = (status: WorkflowStatus, action: LifecycleAction): boolean => machine[action].from.includes(status)

/** HTTP actions that really move a workflow out of `status`: no-ops and `complete` are not offered. */
export const allowedActions = (status: WorkflowStatus): ReadonlyArray<LifecycleAction> =>
  httpActions.filter((action) => moves(status, action))

export const statusConflict = (current: WorkflowStatus, requested: RequestStatus): WorkflowStatusConflict =>
  new WorkflowStatusConflict({
    current_status: current,
    requested_status: requested,
    allowed_actions: allowedActions(current)
  })

/**
 * Applying `action` to `status`: a move, an idempotent no-op when the workflow is already
 * where the action leads (so retries are safe), or a conflict naming what is allowed instead.
 */
export const transition = (
  status: WorkflowStatus,
  action: LifecycleAction
): Either.Either<Transition, WorkflowStatusConflict> => {
  const to = targetOf(action)
  if (moves(status, action)) return Either.right(Transition.Moved({ from: status, to }))
  if (sameStatus(status, to)) return Either.right(Transition.Unchanged({ status }))
  return Either.left(statusConflict(status, to))
}

export type Outcome = Data.TaggedEnum<{
  /** Already where the action leads: nothing is written, no event. */
  Unchanged: { readonly workflow: Workflow }
  Changed: { readonly workflow: Workflow; readonly changes: Changes; readonly type: WorkflowEventType }
}>
export const Outcome = Data.taggedEnum<Outcome>()

/** `action` applied to the stored record at `now`: the new record (version + 1) with its event, a no-op, or a conflict. */
export const apply = (
  current: Workflow,
  action: LifecycleAction,
  now: DateTime.Utc
): Either.Either<Outcome, WorkflowStatusConflict> =>
  Either.map(transition(current.status, action), (moved) => {
    if (moved._tag === "Unchanged") return Outcome.Unchanged({ workflow: current })
    // Valid by construction; validated again when encoded for storage.
    const workflow = new Workflow({ ...current, status: moved.to, version: current.version + 1, updated_at: now }, true)
    return Outcome.Changed({
      workflow,
      changes: { status: { from: current.status, to: moved.to } },
      type: eventType[action]
    })
  })
