import { describe, expect, it } from "@effect/vitest"
import { Lifecycle } from "@workflows/domain"

describe("the 409 message says how to get to the requested status", () => {
  it("a PATCH asking a draft to become active names the activate action, not a contradiction", () => {
    const message = Lifecycle.statusConflict("draft", "active").message
    expect(message).toMatch(/through the activate action/)
    expect(message).not.toMatch(/cannot become active/)
    expect(message).toContain("allowed actions: activate, cancel")
  })

  it("a paused workflow becomes active through resume; a legacy running one is paused through pause", () => {
    expect(Lifecycle.statusConflict("paused", "active").message).toMatch(/through the resume action/)
    expect(Lifecycle.statusConflict("running", "paused").message).toMatch(/through the pause action/)
  })

  it("a status no allowed action reaches still reads 'cannot become'", () => {
    expect(Lifecycle.statusConflict("draft", "paused").message).toBe(
      "The workflow is draft and cannot become paused (allowed actions: activate, cancel)."
    )
    expect(Lifecycle.statusConflict("cancelled", "active").message).toMatch(/final status/)
  })
})
