import { describe, expect, it } from "@effect/vitest"
import { decodeNewWorkflow, makeWorkflow, type NewWorkflow, OrganizationId, WorkflowId } from "@workflows/domain"
import { DateTime, Either } from "effect"
import { fieldsOf } from "./fixtures.js"

const accepted = (body: unknown): NewWorkflow => {
  const decoded = decodeNewWorkflow(body)
  if (Either.isLeft(decoded)) throw new Error(`expected the create body to be accepted: ${decoded.left.message}`)
  return decoded.right
}

const rejectedFields = (body: unknown) => {
  const decoded = decodeNewWorkflow(body)
  if (Either.isRight(decoded)) throw new Error(`expected the create body to be rejected: ${JSON.stringify(body)}`)
  expect(decoded.left._tag).toBe("WorkflowValidationError")
  for (const error of decoded.left.errors) expect(error.message.length).toBeGreaterThan(0)
  return fieldsOf(decoded.left.errors)
}

const META = {
  id: WorkflowId.make("wfl_m3v7zb9rk2px"),
  organization_id: OrganizationId.make("org_xyz"),
  now: DateTime.unsafeMake("2024-04-01T08:00:00.000Z")
}

describe("decodeNewWorkflow: the create body (docs/CONTRACT.md §4, §11 Create)", () => {
  it("takes a title and defaults to a draft with no description", () => {
    expect(accepted({ title: "Q3 Outreach" })).toEqual({ title: "Q3 Outreach", description: null, status: "draft" })
  })

  it("takes name as an alias of title", () => {
    expect(accepted({ name: "30-Day Lead Nurture" }).title).toBe("30-Day Lead Nurture")
  })

  it("accepts title and name together when they are equal after trimming", () => {
    expect(accepted({ title: " Same", name: "Same\t" }).title).toBe("Same")
  })

  it("rejects title and name that differ", () => {
    expect(rejectedFields({ title: "One", name: "Other" })).toHaveLength(1)
  })

  it.each([
    ["{}", {}],
    ["only a description", { description: "words" }],
    ["only a status", { status: "active" }]
  ])("requires a title: %s", (_, body) => {
    expect(rejectedFields(body)).toEqual(["title"])
  })

  it("reports a bad title once, not also as missing", () => {
    expect(rejectedFields({ title: null })).toEqual(["title"])
    expect(rejectedFields({ title: "   " })).toEqual(["title"])
    expect(rejectedFields({ name: "x\u0000y" })).toEqual(["name"])
  })

  it("applies the PATCH text rules: trimming, code-point bounds, control characters", () => {
    expect(accepted({ title: "\tPadded  " }).title).toBe("Padded")
    expect(accepted({ title: "🎯".repeat(200) }).title).toBe("🎯".repeat(200))
    expect(rejectedFields({ title: "🎯".repeat(201) })).toEqual(["title"])
    expect(rejectedFields({ title: "a\u009fb" })).toEqual(["title"])
    expect(accepted({ title: "t", description: "  two\r\nlines\t " }).description).toBe("two\r\nlines")
    expect(accepted({ title: "t", description: "   " }).description).toBeNull()
    expect(rejectedFields({ title: "t", description: "x\u0000" })).toEqual(["description"])
    expect(rejectedFields({ title: "t", description: "d".repeat(2001) })).toEqual(["description"])
  })

  describe("status", () => {
    it.each(["draft", "active"] as const)("may be %s", (status) => {
      expect(accepted({ title: "t", status }).status).toBe(status)
    })

    it("rejects running with a hint to use active", () => {
      const decoded = decodeNewWorkflow({ title: "t", status: "running" })
      expect(Either.isLeft(decoded)).toBe(true)
      if (Either.isLeft(decoded)) {
        expect(fieldsOf(decoded.left.errors)).toEqual(["status"])
        const hint = decoded.left.errors[0]!.message
        expect(hint).toMatch(/\bactive\b/)
        const generic = decodeNewWorkflow({ title: "t", status: "paused" })
        expect(Either.isLeft(generic) && generic.left.errors[0]!.message).not.toBe(hint)
      }
    })

    it.each(["paused", "completed", "cancelled", "bogus", null, 1])("rejects %j", (status) => {
      expect(rejectedFields({ title: "t", status })).toEqual(["status"])
    })
  })

  it.each([
    "id",
    "organization_id",
    "created_at",
    "updated_at",
    "version",
    "node_count",
    "edge_count",
    "enrolled_leads"
  ])(
    "rejects the read-only field %s",
    (field) => {
      expect(rejectedFields({ title: "t", [field]: field === "version" ? 1 : 0 })).toEqual([field])
    }
  )

  it("rejects unknown fields and points nodes/edges/leads elsewhere, all at once", () => {
    const decoded = decodeNewWorkflow({ title: "t", colour: "red", nodes: [], leads: [] })
    expect(Either.isLeft(decoded)).toBe(true)
    if (Either.isLeft(decoded)) {
      expect(new Set(fieldsOf(decoded.left.errors))).toEqual(new Set(["colour", "nodes", "leads"]))
      expect(decoded.left.errors.find((e) => e.field === "nodes")!.message).toMatch(/workflow-nodes/)
    }
  })

  it.each([["an array", []], ["null", null], ["a number", 1], ["a string", "title"]])(
    "rejects %s as a body",
    (_, body) => {
      expect(rejectedFields(body)).toEqual([null])
    }
  )

  it("does not pollute Object.prototype with a __proto__ key", () => {
    expect(new Set(rejectedFields(JSON.parse("{\"title\":\"t\",\"__proto__\":{\"polluted\":1}}")))).toEqual(
      new Set(["__proto__"])
    )
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe("makeWorkflow: the first version of a record", () => {
  it("starts at version 1 with zero counts and both timestamps at creation", () => {
    const { workflow } = makeWorkflow({ title: "Q3", description: null, status: "draft" }, META)
    expect(workflow.id).toBe(META.id)
    expect(workflow.organization_id).toBe(META.organization_id)
    expect(workflow.title).toBe("Q3")
    expect(workflow.description).toBeNull()
    expect(workflow.status).toBe("draft")
    expect(workflow.version).toBe(1)
    expect([workflow.node_count, workflow.edge_count, workflow.enrolled_leads]).toEqual([0, 0, 0])
    expect(DateTime.formatIso(workflow.created_at)).toBe("2024-04-01T08:00:00.000Z")
    expect(DateTime.formatIso(workflow.updated_at)).toBe("2024-04-01T08:00:00.000Z")
    expect(workflow.etag).toBe("\"1\"")
  })

  it("lists title and status as changes from null, without a null description", () => {
    const { changes } = makeWorkflow({ title: "Q3", description: null, status: "draft" }, META)
    expect(changes).toEqual({ title: { from: null, to: "Q3" }, status: { from: null, to: "draft" } })
  })

  it("lists the description when there is one, and the active status when created active", () => {
    const { changes, workflow } = makeWorkflow({ title: "Q3", description: "Calls", status: "active" }, META)
    expect(workflow.status).toBe("active")
    expect(changes).toEqual({
      title: { from: null, to: "Q3" },
      status: { from: null, to: "active" },
      description: { from: null, to: "Calls" }
    })
  })

  it("builds a record from a decoded body", () => {
    const { workflow } = makeWorkflow(accepted({ name: "  From name ", description: "" }), META)
    expect(workflow.title).toBe("From name")
    expect(workflow.description).toBeNull()
    expect(workflow.status).toBe("draft")
  })
})
