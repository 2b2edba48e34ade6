// A consumer's program against `Workflows`, indifferent to where the service runs. It is type-checked
// against the installed packages' declarations (skipLibCheck off) and the checks below fail the
// compile if a type the program relies on has degraded to `any` (a declaration file not shipped).
import {
  type IdempotencyKeyReused,
  type Workflow,
  type WorkflowNotFound,
  type WorkflowPreconditionFailed,
  WorkflowStatusConflict,
  type WorkflowValidationError
} from "@workflows/domain"
import { WorkflowNotFound as NotFound } from "@workflows/domain"
import { Workflows } from "@workflows/http/client"
import { Effect, Either } from "effect"

type IsAny<T> = 0 extends 1 & T ? true : false
type NotAny<T> = IsAny<T> extends true ? never : T

type UpdateError = WorkflowNotFound | WorkflowValidationError | WorkflowStatusConflict | WorkflowPreconditionFailed

/** The typed error a call fails with; a success here is a defect. */
const failureOf = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<E, never, R> =>
  Effect.flatMap(Effect.either(effect), Either.match({ onLeft: Effect.succeed, onRight: () => Effect.dieMessage("expected a failure") }))

export interface Summary {
  readonly renamedTitle: string
  readonly renamedVersion: number
  readonly conflict: { readonly tag: string; readonly isDomainClass: boolean; readonly allowed: ReadonlyArray<string> }
  readonly missing: { readonly tag: string; readonly isDomainClass: boolean }
  readonly activatedStatus: string
  readonly eventTypes: ReadonlyArray<string>
}

export const program: Effect.Effect<Summary, WorkflowValidationError | IdempotencyKeyReused | UpdateError, NotAny<Workflows>> = Effect.gen(
  function* () {
    const workflows = yield* Workflows
    const created: NotAny<Workflow> = yield* workflows.create({ title: "Lead Nurture Sequence" })
    const renamed = yield* workflows.update(created.id, { name: "30-Day Lead Nurture v2" })
    const conflict: NotAny<UpdateError> = yield* failureOf(workflows.update(created.id, { status: "paused" }))
    const missing: NotAny<WorkflowNotFound> = yield* failureOf(workflows.get("wfl_doesnotexist1"))
    const activated = yield* workflows.activate(created.id, { body: { reason: "launch" } })
    const events = yield* workflows.events(created.id)
    return {
      renamedTitle: renamed.title,
      renamedVersion: renamed.version,
      conflict: {
        tag: conflict._tag,
        isDomainClass: conflict instanceof WorkflowStatusConflict,
        allowed: conflict._tag === "WorkflowStatusConflict" ? conflict.allowed_actions : []
      },
      missing: { tag: missing._tag, isDomainClass: missing instanceof NotFound },
      activatedStatus: activated.status,
      eventTypes: events.data.map((event) => event.type)
    }
  }
)
