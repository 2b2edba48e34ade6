import { describe, expect, it } from "@effect/vitest"
import { Lifecycle, WorkflowStatusConflict } from "@workflows/domain"
import { Either } from "effect"
import { ACTIONS, ALLOWED_ACTIONS, LIFECYCLE_TABLE, STATUSES, TARGET } from "./lifecycle-table.js"

const sorted = (actions: ReadonlyArray<string>) => [...actions].sort()

const cases = STATUSES.flatMap((status) =>
  ACTIONS.map((action) => ({ status, action, expected: LIFECYCLE_TABLE[status][action] }))
)

describe("the status state machine (docs/CONTRACT.md §3)", () => {
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
          expect(error?.requested_status).toBe(expected.requested)
          expect(sorted(error?.allowed_actions ?? ["<missing>"])).toEqual(sorted(ALLOWED_ACTIONS[status]))
          break
        }
      }
    })
  })

  describe.each(STATUSES)("allowed actions from %s", (status) => {
    it("are exactly the HTTP actions that really move it", () => {
      expect(sorted(Lifecycle.allowedActions(status))).toEqual(sorted(ALLOWED_ACTIONS[status]))
    })

    it("never offer the internal complete action", () => {
      expect(Lifecycle.allowedActions(status)).not.toContain("complete")
    })
  })

  it("offers nothing from the terminal statuses", () => {
    expect(Lifecycle.allowedActions("completed")).toEqual([])
    expect(Lifecycle.allowedActions("cancelled")).toEqual([])
  })

  it("exposes the four HTTP actions, never the internal complete", () => {
    expect(sorted(Lifecycle.httpActions)).toEqual(sorted(["activate", "pause", "resume", "cancel"]))
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
