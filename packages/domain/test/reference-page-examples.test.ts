import { describe, expect, it } from "@effect/vitest"
import { applyPatch, WorkflowStatusConflict } from "@workflows/domain"
import { Either } from "effect"
import { changed, NOW, rejected, stored, validPatch } from "./fixtures.js"

// The examples of the public reference page of PATCH /v1/workflows/{id} (docs/CONTRACT.md §2), run against the domain rules.
describe("the reference page's examples", () => {
  // The page's second response: wfl_m3v7zb9rk2px, active, 5 nodes, 6 edges, 420 leads.
  const pageRecord = stored({
    id: "wfl_m3v7zb9rk2px",
    title: "30-Day Lead Nurture",
    status: "active",
    node_count: 5,
    edge_count: 6,
    enrolled_leads: 420,
    created_at: "2024-04-01T08:00:00.000Z",
    updated_at: "2024-04-01T08:00:00.000Z"
  })

  it("{\"name\": \"30-Day Lead Nurture v2\"} decodes and sets the title", () => {
    const patch = validPatch(JSON.parse("{\"name\": \"30-Day Lead Nurture v2\"}"))
    expect(patch.name).toBe("30-Day Lead Nurture v2")
    const outcome = applyPatch(pageRecord, patch, NOW)
    expect(Either.isRight(outcome)).toBe(true)
    if (Either.isRight(outcome) && outcome.right._tag === "Changed") {
      const { changes, workflow } = outcome.right
      expect(workflow.title).toBe("30-Day Lead Nurture v2")
      expect(workflow.status).toBe("active")
      expect([workflow.node_count, workflow.edge_count, workflow.enrolled_leads]).toEqual([5, 6, 420])
      expect(workflow.version).toBe(pageRecord.version + 1)
      expect(changes).toEqual({ title: { from: "30-Day Lead Nurture", to: "30-Day Lead Nurture v2" } })
    } else {
      expect.fail("expected a Changed outcome")
    }
  })

  it("{\"title\", \"description\"} (the curl example's shape) sets both", () => {
    const current = stored({ title: "Lead Nurture Sequence", description: null })
    const result = changed(
      current,
      JSON.parse(
        "{\"title\": \"Lead Nurture Sequence\", \"description\": \"Contacts cold leads three times before marking as unresponsive.\"}"
      )
    )
    expect(result.workflow.title).toBe("Lead Nurture Sequence")
    expect(result.workflow.description).toBe("Contacts cold leads three times before marking as unresponsive.")
    expect(result.changes).toEqual({
      description: { from: null, to: "Contacts cold leads three times before marking as unresponsive." }
    })
  })

  it("{\"status\": \"paused\"} on an active record is a conflict listing pause and cancel", () => {
    const error = rejected(pageRecord, JSON.parse("{\"status\": \"paused\"}"))
    expect(error).toBeInstanceOf(WorkflowStatusConflict)
    if (error instanceof WorkflowStatusConflict) {
      expect(error.current_status).toBe("active")
      expect(error.requested_status).toBe("paused")
      expect([...error.allowed_actions].sort()).toEqual(["cancel", "pause"])
      expect(error.message).toMatch(/pause/)
    }
  })

  it("the page's first response record (legacy wf_ id) can be edited", () => {
    const current = stored({ id: "wf_abc123" })
    expect(changed(current, { description: "Shorter." }).workflow.id).toBe("wf_abc123")
  })
})
