import { Data, Either } from "effect"
import { type LifecycleActionName, WorkflowStatusConflict } from "./Errors.js"
import { type RequestStatus, sameStatus, type WorkflowStatus } from "./WorkflowStatus.js"

export type LifecycleAction = LifecycleActionName

/** docs/CONTRACT.md §3, read row by row: each action, the statuses it leaves from, and where it lands. */
export const machine: { readonly [A in LifecycleAction]: { readonly from: ReadonlyArray<WorkflowStatus>; readonly to: RequestStatus } } = {
  activate: { from: ["draft"], to: "active" },
  pause: { from: ["active", "running"], to: "paused" },
  resume: { from: ["paused"], to: "active" },
  cancel: { from: ["draft", "active", "running", "paused"], to: "cancelled" },
  complete: { from: ["active", "running"], to: "completed" }
}

/** The actions a client can call over HTTP; `complete` is for internal callers only. */
export const httpActions: ReadonlyArray<LifecycleAction> = ["activate", "pause", "resume", "cancel"]

export const targetOf = (action: LifecycleAction): RequestStatus => machine[action].to

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
