import { Schema } from "effect"
import type { RequestStatus } from "./WorkflowStatus.js"

/** The lifecycle actions a client can call over HTTP, one route each. */
export const HttpLifecycleAction = Schema.Literal("activate", "pause", "resume", "cancel")
export type HttpLifecycleAction = typeof HttpLifecycleAction.Type

/** Every lifecycle action; `complete` is for internal callers only. */
export const LifecycleActionName = Schema.Literal(...HttpLifecycleAction.literals, "complete")
export type LifecycleActionName = typeof LifecycleActionName.Type

/** Where each action leads; `Lifecycle.machine` says from where. */
export const actionTargets: { readonly [A in LifecycleActionName]: RequestStatus } = {
  activate: "active",
  pause: "paused",
  resume: "active",
  cancel: "cancelled",
  complete: "completed"
}
