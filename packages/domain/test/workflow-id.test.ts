import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { isWorkflowId, makeEventId, makeWorkflowId, WorkflowId } from "@workflows/domain"

describe("workflow ids", () => {
  it.effect("a new id is wfl_ and 12 lowercase base-36 characters", () =>
    Effect.gen(function* () {
      const ids = yield* Effect.replicateEffect(makeWorkflowId, 200)
      for (const id of ids) {
        expect(id).toMatch(/^wfl_[0-9a-z]{12}$/)
        expect(isWorkflowId(id)).toBe(true)
      }
      expect(new Set(ids).size).toBe(ids.length)
    }))

  it.effect("event ids are evt_ and lowercase base-36", () =>
    Effect.gen(function* () {
      const id = yield* makeEventId
      expect(id).toMatch(/^evt_[0-9a-z]{16}$/)
    }))

  it.each(["wfl_m3v7zb9rk2px", "wf_abc123", "wf_ABC", `wfl_${"a".repeat(64)}`])("%s is a valid id", (id) => {
    expect(isWorkflowId(id)).toBe(true)
    expect(Schema.decodeUnknownSync(WorkflowId)(id)).toBe(id)
  })

  it.each(["", "wfl_", "wfx_abc", "wfl_abc-def", "wfl_abc def", `wfl_${"a".repeat(65)}`, "WFL_abc", "../wfl_abc", 42])(
    "%j is not a valid id",
    (id) => {
      expect(isWorkflowId(id)).toBe(false)
    }
  )
})
