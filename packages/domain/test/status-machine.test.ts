import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { Lifecycle, type RequestStatus, type WorkflowStatus, WorkflowStatusConflict } from "@workflows/domain"

type Action = Lifecycle.LifecycleAction
type Expected =
  | { readonly kind: "moved"; readonly to: RequestStatus }
  | { readonly kind: "unchanged" }
  | { readonly kind: "conflict" }

const moved = (to: RequestStatus): Expected => ({ kind: "moved", to })
const unchanged: Expected = { kind: "unchanged" }
const conflict: Expected = { kind: "conflict" }

/**
 * docs/CONTRACT.md §3, written out by hand cell by cell (never derived from `Lifecycle.machine`):
 * a real move, an idempotent no-op when the action's target is already the current status
 * (`running` counting as `active`), or a 409 conflict.
 */
const TABLE: { readonly [S in WorkflowStatus]: { readonly [A in Action]: Expected } } = {
  draft: { activate: moved("active"), pause: conflict, resume: conflict, cancel: moved("cancelled"), complete: conflict },
  active: { activate: unchanged, pause: moved("paused"), resume: unchanged, cancel: moved("cancelled"), complete: moved("completed") },
  running: { activate: unchanged, pause: moved("paused"), resume: unchanged, cancel: moved("cancelled"), complete: moved("completed") },
  paused: { activate: conflict, pause: unchanged, resume: moved("active"), cancel: moved("cancelled"), complete: conflict },
  completed: { activate: conflict, pause: conflict, resume: conflict, cancel: conflict, complete: unchanged },
  cancelled: { activate: conflict, pause: conflict, resume: conflict, cancel: unchanged, complete: conflict }
}

/** The HTTP actions that really move a workflow out of each status (docs/CONTRACT.md §5 "409 body"). */
const ALLOWED: { readonly [S in WorkflowStatus]: ReadonlyArray<Action> } = {
  draft: ["activate", "cancel"],
  active: ["pause", "cancel"],
  running: ["pause", "cancel"],
  paused: ["resume", "cancel"],
  completed: [],
  cancelled: []
}

const TARGET: { readonly [A in Action]: RequestStatus } = {
  activate: "active",
  pause: "paused",
  resume: "active",
  cancel: "cancelled",
  complete: "completed"
}

const STATUSES: ReadonlyArray<WorkflowStatus> = ["draft", "active", "running", "paused", "completed", "cancelled"]
const ACTIONS: ReadonlyArray<Action> = ["activate", "pause", "resume", "cancel", "complete"]

const sorted = (actions: ReadonlyArray<string>) => [...actions].sort()

const cases = STATUSES.flatMap((status) => ACTIONS.map((action) => ({ status, action, expected: TABLE[status][action] })))

describe("the status state machine (docs/CONTRACT.md §3)", () => {
  it("covers every action × every status: 30 cases", () => {
    expect(cases).toHaveLength(30)
  })

  describe.each(cases)("$action from $status", ({ action, expected, status }) => {
    it(`is ${expected.kind === "moved" ? `a move to ${expected.to}` : expected.kind}`, () => {
      const result = Lifecycle.transition(status, action)
      switch (expected.kind) {
        case "moved": {
          expect(Either.isRight(result)).toBe(true)
          const transition = Either.getOrThrow(result)
          expect(transition).toMatchObject({ _tag: "Moved", from: status, to: expected.to })
          break
        }
        case "unchanged": {
          expect(Either.isRight(result)).toBe(true)
          // The record keeps the stored value: a legacy `running` stays `running`.
          expect(Either.getOrThrow(result)).toMatchObject({ _tag: "Unchanged", status })
          break
        }
        case "conflict": {
          expect(Either.isLeft(result)).toBe(true)
          const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined))
          expect(error).toBeInstanceOf(WorkflowStatusConflict)
          expect(error?._tag).toBe("WorkflowStatusConflict")
          expect(error?.current_status).toBe(status)
          expect(error?.requested_status).toBe(TARGET[action])
          expect(sorted(error?.allowed_actions ?? ["<missing>"])).toEqual(sorted(ALLOWED[status]))
          break
        }
      }
    })
  })

  describe.each(STATUSES)("allowed actions from %s", (status) => {
    it("are exactly the HTTP actions that really move it", () => {
      expect(sorted(Lifecycle.allowedActions(status))).toEqual(sorted(ALLOWED[status]))
    })

    it("never offer the internal complete action", () => {
      expect(Lifecycle.allowedActions(status)).not.toContain("complete")
    })
  })

  it("offers nothing from the terminal statuses", () => {
    expect(Lifecycle.allowedActions("completed")).toEqual([])
    expect(Lifecycle.allowedActions("cancelled")).toEqual([])
  })

  it("exposes the four HTTP actions and complete as internal only", () => {
    expect(sorted(Lifecycle.httpActions)).toEqual(sorted(["activate", "pause", "resume", "cancel"]))
    expect(sorted(Lifecycle.actions)).toEqual(sorted(ACTIONS))
  })

  it.each(ACTIONS)("names the target of %s as in docs/CONTRACT.md §3", (action) => {
    expect(Lifecycle.targetOf(action)).toBe(TARGET[action])
  })

  it("a conflict's message names the current status, the requested one and what is allowed", () => {
    const fromPaused = Either.getLeft(Lifecycle.transition("paused", "complete"))
    expect(fromPaused._tag).toBe("Some")
    if (fromPaused._tag === "Some") {
      expect(fromPaused.value.message).toMatch(/paused/)
      expect(fromPaused.value.message).toMatch(/completed/)
      expect(fromPaused.value.message).toMatch(/resume/)
      expect(fromPaused.value.message).toMatch(/cancel/)
    }
    const fromCancelled = Either.getLeft(Lifecycle.transition("cancelled", "activate"))
    expect(fromCancelled._tag).toBe("Some")
    if (fromCancelled._tag === "Some") {
      expect(fromCancelled.value.message).toMatch(/cancelled/)
      expect(fromCancelled.value.message).toMatch(/\bactive\b/)
    }
  })
})
