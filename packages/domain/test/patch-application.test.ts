import { describe, expect, it } from "@effect/vitest"
import { applyPatch, WorkflowStatusConflict, WorkflowValidationError } from "@workflows/domain"
import { DateTime, Either } from "effect"
import {
  apply,
  asRead,
  changed,
  CREATED,
  decodeErrors,
  fieldsOf,
  NOW,
  rejected,
  stored,
  UPDATED,
  validPatch
} from "./fixtures.js"

const expectUnchanged = (current: ReturnType<typeof stored>, body: unknown) => {
  const outcome = apply(current, body)
  expect(Either.isRight(outcome)).toBe(true)
  if (Either.isRight(outcome)) {
    expect(outcome.right._tag).toBe("Unchanged")
    expect(outcome.right.workflow).toBe(current)
  }
}

const validationErrors = (current: ReturnType<typeof stored>, body: unknown) => {
  const error = rejected(current, body)
  expect(error).toBeInstanceOf(WorkflowValidationError)
  return (error as WorkflowValidationError).errors
}

const conflictOf = (current: ReturnType<typeof stored>, body: unknown) => {
  const error = rejected(current, body)
  expect(error).toBeInstanceOf(WorkflowStatusConflict)
  return error as WorkflowStatusConflict
}

describe("applyPatch: the body against the stored record (docs/CONTRACT.md §2 steps 6–8)", () => {
  describe("status", () => {
    it.each(["draft", "active", "paused", "completed", "cancelled"] as const)(
      "equal to the stored %s is ignored",
      (status) => {
        const current = stored({ status })
        const result = changed(current, { status, title: "Renamed" })
        expect(result.workflow.status).toBe(status)
        expect(result.changes).toEqual({ title: { from: "Lead Nurture Sequence", to: "Renamed" } })
      }
    )

    it("active is equal to a legacy running record, which keeps running", () => {
      const current = stored({ status: "running" })
      const result = changed(current, { status: "active", title: "Renamed" })
      expect(result.workflow.status).toBe("running")
      expectUnchanged(current, { status: "active", title: "Lead Nurture Sequence" })
    })

    it("different from the stored one is a conflict naming current, requested and allowed actions", () => {
      const error = conflictOf(stored({ status: "draft" }), { status: "active", title: "x" })
      expect(error._tag).toBe("WorkflowStatusConflict")
      expect(error.current_status).toBe("draft")
      expect(error.requested_status).toBe("active")
      expect([...error.allowed_actions].sort()).toEqual(["activate", "cancel"])
    })

    it("on a legacy running record names running as current and offers pause and cancel", () => {
      const error = conflictOf(stored({ status: "running" }), { status: "paused" })
      expect(error.current_status).toBe("running")
      expect(error.requested_status).toBe("paused")
      expect([...error.allowed_actions].sort()).toEqual(["cancel", "pause"])
    })

    it("from a terminal status lists no allowed actions", () => {
      const error = conflictOf(stored({ status: "completed" }), { status: "active" })
      expect(error.allowed_actions).toEqual([])
    })

    it("a conflict wins over read-only and title problems (step 6 before step 7)", () => {
      const current = stored({ status: "active", title: "Stored" })
      const error = rejected(current, { status: "paused", version: 99, id: "wf_other", title: "A", name: "B" })
      expect(error).toBeInstanceOf(WorkflowStatusConflict)
    })

    it("a conflict wins over a body with no editable field", () => {
      expect(rejected(stored({ status: "paused" }), { status: "cancelled" })).toBeInstanceOf(WorkflowStatusConflict)
    })
  })

  describe("read-only fields", () => {
    it("equal to the stored values are ignored", () => {
      const result = changed(stored(), {
        title: "Renamed",
        id: "wf_abc123",
        organization_id: "org_xyz",
        version: 3,
        node_count: 5,
        edge_count: 6,
        enrolled_leads: 420,
        created_at: CREATED,
        updated_at: UPDATED
      })
      expect(result.workflow.title).toBe("Renamed")
      expect(result.changes).toEqual({ title: { from: "Lead Nurture Sequence", to: "Renamed" } })
    })

    it.each([
      ["without milliseconds", "2024-03-01T09:00:00Z"],
      ["with microseconds", "2024-03-01T09:00:00.000000Z"],
      ["as a +01:00 offset", "2024-03-01T10:00:00+01:00"],
      ["as a -05:30 offset", "2024-03-01T03:30:00.000-05:30"]
    ])("timestamps are compared as instants: the same instant %s is equal", (_, createdAt) => {
      const result = changed(stored(), { title: "Renamed", created_at: createdAt })
      expect(result.workflow.title).toBe("Renamed")
    })

    it.each([
      ["a microsecond later", "2024-03-02T11:00:00.000001Z"],
      ["a nanosecond later", "2024-03-02T11:00:00.000000001Z"]
    ])("a timestamp finer than the stored millisecond is a different instant: %s", (_, updatedAt) => {
      expect(fieldsOf(validationErrors(stored(), { title: "Renamed", updated_at: updatedAt }))).toEqual(["updated_at"])
    })

    it("a timestamp one millisecond away is different", () => {
      expect(fieldsOf(validationErrors(stored(), { title: "Renamed", updated_at: "2024-03-02T11:00:00.001Z" })))
        .toEqual([
          "updated_at"
        ])
    })

    it("a count of 5 equals 5.0 (integers compare by value)", () => {
      expect(changed(stored(), { title: "Renamed", node_count: 5.0 }).workflow.title).toBe("Renamed")
    })

    it("different from the stored values are errors, each named, and nothing changes", () => {
      const errors = validationErrors(stored(), {
        title: "Renamed",
        id: "wf_other",
        organization_id: "org_other",
        version: 4,
        node_count: 0,
        edge_count: 7,
        enrolled_leads: 1,
        created_at: "2024-03-01T09:00:01Z",
        updated_at: "2025-01-01T00:00:00Z"
      })
      expect(new Set(fieldsOf(errors))).toEqual(
        new Set([
          "id",
          "organization_id",
          "version",
          "node_count",
          "edge_count",
          "enrolled_leads",
          "created_at",
          "updated_at"
        ])
      )
      for (const error of errors) expect(error.message.length).toBeGreaterThan(0)
    })

    it("a different read-only field is reported together with a title ambiguity", () => {
      const errors = validationErrors(stored({ title: "Stored" }), { title: "A", name: "B", version: 9 })
      expect(new Set(fieldsOf(errors))).toEqual(new Set(["version", "name"]))
    })
  })

  describe("title and its alias name", () => {
    const current = stored({ title: "Stored" })

    it("name alone sets the title", () => {
      expect(changed(current, { name: "Via name" }).workflow.title).toBe("Via name")
    })

    it("title and name equal to each other set the title", () => {
      expect(changed(current, { title: "Both", name: "Both" }).workflow.title).toBe("Both")
    })

    it("equal after trimming count as equal", () => {
      expect(changed(current, { title: "  Both", name: "Both\t" }).workflow.title).toBe("Both")
    })

    it("title echoes the stored value: name wins", () => {
      const result = changed(current, { title: "Stored", name: "New name" })
      expect(result.workflow.title).toBe("New name")
      expect(result.changes).toEqual({ title: { from: "Stored", to: "New name" } })
    })

    it("name echoes the stored value: title wins", () => {
      expect(changed(current, { title: "New title", name: "Stored" }).workflow.title).toBe("New title")
    })

    it("an echo is recognised after trimming", () => {
      expect(changed(current, { title: " Stored ", name: "New name" }).workflow.title).toBe("New name")
    })

    it("both differing from the stored title and from each other is an error", () => {
      const errors = validationErrors(current, { title: "A", name: "B" })
      expect(errors).toHaveLength(1)
      expect(["title", "name"]).toContain(errors[0]!.field)
    })

    it("both equal to the stored title is a no-op", () => {
      expectUnchanged(current, { title: "Stored", name: "Stored" })
    })
  })

  describe("no editable field", () => {
    it.each([
      ["only status equal", { status: "active" }],
      ["only read-only fields equal", { id: "wf_abc123", version: 3 }],
      ["read-only fields and status equal", { id: "wf_abc123", status: "active", created_at: CREATED }]
    ])("%s is an error about the body as a whole", (_, body) => {
      const errors = validationErrors(stored({ status: "active" }), body)
      expect(fieldsOf(errors)).toEqual([null])
    })

    it("is reported together with a different read-only field", () => {
      expect(new Set(fieldsOf(validationErrors(stored(), { version: 8 })))).toEqual(new Set(["version", null]))
    })
  })

  describe("changes", () => {
    it("a new title bumps the version by one and moves updated_at to now", () => {
      const current = stored()
      const result = changed(current, { title: "Renamed" })
      expect(result.workflow.version).toBe(current.version + 1)
      expect(DateTime.Equivalence(result.workflow.updated_at, NOW)).toBe(true)
      expect(DateTime.Equivalence(result.workflow.created_at, current.created_at)).toBe(true)
      expect(result.changes).toEqual({ title: { from: "Lead Nurture Sequence", to: "Renamed" } })
    })

    it("clearing the description records a change to null", () => {
      const current = stored({ description: "Old words" })
      for (const description of [null, "", "   "]) {
        const result = changed(current, { description })
        expect(result.workflow.description).toBeNull()
        expect(result.changes).toEqual({ description: { from: "Old words", to: null } })
      }
    })

    it("setting a description on a record without one records a change from null", () => {
      const result = changed(stored({ description: null }), { description: "Fresh" })
      expect(result.changes).toEqual({ description: { from: null, to: "Fresh" } })
    })

    it("lists only the fields that changed", () => {
      const current = stored({ title: "T", description: "D" })
      expect(changed(current, { title: "T", description: "New D" }).changes).toEqual({
        description: { from: "D", to: "New D" }
      })
      expect(changed(current, { title: "New T", description: "D" }).changes).toEqual({
        title: { from: "T", to: "New T" }
      })
    })

    it.each(["completed", "cancelled", "paused", "draft"] as const)(
      "title and description are editable when %s",
      (status) => {
        const result = changed(stored({ status }), { title: "Renamed", description: "Redescribed" })
        expect(result.workflow.status).toBe(status)
        expect(result.workflow.title).toBe("Renamed")
        expect(result.workflow.description).toBe("Redescribed")
      }
    )
  })

  describe("no-ops", () => {
    it("values equal to the stored ones (after trimming) change nothing", () => {
      const current = stored({ title: "Same", description: "Same words" })
      expectUnchanged(current, { title: "Same" })
      expectUnchanged(current, { title: "  Same\t", description: "\nSame words  " })
      expectUnchanged(current, { name: "Same" })
    })

    it("clearing an already empty description changes nothing", () => {
      expectUnchanged(stored({ description: null }), { description: null })
      expectUnchanged(stored({ description: null }), { description: "  " })
    })
  })

  describe("GET → edit → PATCH", () => {
    it("a GET response sent back unchanged is a no-op", () => {
      const current = stored()
      const read = asRead(current)
      expect(read.name).toBe(current.title)
      expectUnchanged(current, read)
    })

    it("a GET response of a legacy running record is rejected for its status alone (docs/CONTRACT.md §1: running is never requested)", () => {
      const read = asRead(stored({ status: "running", id: "wf_legacy1" }))
      expect(fieldsOf(decodeErrors(read))).toEqual(["status"])
      expectUnchanged(stored({ status: "running", id: "wf_legacy1" }), { ...read, status: "active" })
    })

    it("a GET response with the title edited changes only the title", () => {
      const current = stored()
      const result = changed(current, { ...asRead(current), title: "Edited" })
      expect(result.workflow.title).toBe("Edited")
      expect(result.changes).toEqual({ title: { from: "Lead Nurture Sequence", to: "Edited" } })
    })

    it("a GET response with the name edited changes the title (title is then the echo)", () => {
      const current = stored()
      const result = changed(current, { ...asRead(current), name: "Edited by name" })
      expect(result.changes).toEqual({ title: { from: "Lead Nurture Sequence", to: "Edited by name" } })
    })

    it("a GET response with the description cleared records description → null", () => {
      const current = stored()
      const result = changed(current, { ...asRead(current), description: null })
      expect(result.changes).toEqual({
        description: { from: "Contacts cold leads three times before marking as unresponsive.", to: null }
      })
      expect(result.workflow.version).toBe(current.version + 1)
    })

    it("a stale GET response (older version) is rejected naming version and updated_at", () => {
      const old = stored({ version: 2, updated_at: "2024-03-01T10:00:00.000Z" })
      const current = stored()
      const errors = validationErrors(current, { ...asRead(old), title: "Edited" })
      expect(new Set(fieldsOf(errors))).toEqual(new Set(["version", "updated_at"]))
    })
  })

  it("does not alter the stored record it was given", () => {
    const current = stored()
    const before = JSON.stringify(asRead(current))
    applyPatch(current, validPatch({ title: "Renamed", description: null }), NOW)
    expect(JSON.stringify(asRead(current))).toBe(before)
  })
})
