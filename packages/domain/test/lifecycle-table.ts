import type { Lifecycle, RequestStatus, WorkflowStatus } from "@workflows/domain"

/**
 * The state machine of the contract (docs/CONTRACT.md §3), written out by hand cell by cell and
 * never derived from `Lifecycle.machine`, so a mistake there shows up. The domain suite checks `Lifecycle.transition`
 * against it and the service suite checks what each call stores, on both databases.
 */
export type Action = Lifecycle.LifecycleAction
export type Expected =
  | { readonly kind: "moved"; readonly to: RequestStatus }
  | { readonly kind: "unchanged" }
  | { readonly kind: "conflict"; readonly requested: RequestStatus }

const moved = (to: RequestStatus): Expected => ({ kind: "moved", to })
const unchanged: Expected = { kind: "unchanged" }
const conflict = (requested: RequestStatus): Expected => ({ kind: "conflict", requested })

/** Each status × each action: a real move, an idempotent no-op (`running` counts as `active`), or a 409. */
export const LIFECYCLE_TABLE: { readonly [S in WorkflowStatus]: { readonly [A in Action]: Expected } } = {
  draft: {
    activate: moved("active"),
    pause: conflict("paused"),
    resume: conflict("active"),
    cancel: moved("cancelled"),
    complete: conflict("completed")
  },
  active: {
    activate: unchanged,
    pause: moved("paused"),
    resume: unchanged,
    cancel: moved("cancelled"),
    complete: moved("completed")
  },
  running: {
    activate: unchanged,
    pause: moved("paused"),
    resume: unchanged,
    cancel: moved("cancelled"),
    complete: moved("completed")
  },
  paused: {
    activate: conflict("active"),
    pause: unchanged,
    resume: moved("active"),
    cancel: moved("cancelled"),
    complete: conflict("completed")
  },
  completed: {
    activate: conflict("active"),
    pause: conflict("paused"),
    resume: conflict("active"),
    cancel: conflict("cancelled"),
    complete: unchanged
  },
  cancelled: {
    activate: conflict("active"),
    pause: conflict("paused"),
    resume: conflict("active"),
    cancel: unchanged,
    complete: conflict("completed")
  }
}

/** The HTTP actions that really move a workflow out of each status: what a 409 offers (docs/CONTRACT.md §5). */
export const ALLOWED_ACTIONS: { readonly [S in WorkflowStatus]: ReadonlyArray<Action> } = {
  draft: ["activate", "cancel"],
  active: ["pause", "cancel"],
  running: ["pause", "cancel"],
  paused: ["resume", "cancel"],
  completed: [],
  cancelled: []
}

/** Where each action leads. */
export const TARGET: { readonly [A in Action]: RequestStatus } = {
  activate: "active",
  pause: "paused",
  resume: "active",
  cancel: "cancelled",
  complete: "completed"
}

export const STATUSES: ReadonlyArray<WorkflowStatus> = [
  "draft",
  "active",
  "running",
  "paused",
  "completed",
  "cancelled"
]
export const ACTIONS: ReadonlyArray<Action> = ["activate", "pause", "resume", "cancel", "complete"]
