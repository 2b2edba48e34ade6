import { describe, expect, it } from "@effect/vitest"
import { decodePatch, WorkflowValidationError } from "@workflows/domain"
import { Either } from "effect"
import { decodeErrors, fieldsOf, validPatch } from "./fixtures.js"

const errorFor = (body: unknown, field: string | null) => {
  const found = decodeErrors(body).filter((e) => e.field === field)
  expect(found, `an error for field ${String(field)}`).toHaveLength(1)
  return found[0]!
}

describe("decodePatch: the body on its own (docs/CONTRACT.md §2 step 3)", () => {
  describe("bodies that are not objects", () => {
    it.each([
      ["an array", [{ title: "x" }]],
      ["null", null],
      ["a number", 42],
      ["a string", "{\"title\":\"x\"}"],
      ["a boolean", true]
    ])("rejects %s with one error about the body as a whole", (_, body) => {
      const decoded = decodePatch(body)
      expect(Either.isLeft(decoded)).toBe(true)
      if (Either.isLeft(decoded)) {
        expect(decoded.left).toBeInstanceOf(WorkflowValidationError)
        expect(decoded.left.errors).toHaveLength(1)
        expect(decoded.left.errors[0]!.field).toBeNull()
        expect(decoded.left.errors[0]!.message.length).toBeGreaterThan(0)
      }
    })
  })

  it("rejects {} with an error about the body as a whole", () => {
    const errors = decodeErrors({})
    expect(fieldsOf(errors)).toEqual([null])
  })

  it("treats a field set to undefined (possible only from code) as absent", () => {
    expect(fieldsOf(decodeErrors({ title: undefined }))).toEqual([null])
  })

  describe("unknown fields", () => {
    it("names every unknown field, all at once, together with other problems", () => {
      const errors = decodeErrors({ titel: "typo", color: "red", tags: ["a"], title: null, version: 0 })
      expect(new Set(fieldsOf(errors))).toEqual(new Set(["titel", "color", "tags", "title", "version"]))
      expect(errors).toHaveLength(5)
    })

    it("explains what the editable fields are", () => {
      expect(errorFor({ titel: "typo" }, "titel").message).toMatch(/title/)
    })

    it.each([
      ["nodes", /workflow-nodes/],
      ["edges", /workflow-edges/],
      ["leads", /Add Lead|Remove Lead/]
    ])("points %s to the endpoints that own it", (field, pointer) => {
      const message = errorFor({ [field]: [], title: "ok" }, field).message
      expect(message).toMatch(pointer)
    })

    it("reports nodes, edges and leads together", () => {
      expect(new Set(fieldsOf(decodeErrors({ nodes: [], edges: [], leads: [] })))).toEqual(
        new Set(["nodes", "edges", "leads"])
      )
    })

    it("treats __proto__ and constructor keys from JSON as unknown fields, without touching Object.prototype", () => {
      const body: unknown = JSON.parse(
        "{\"title\":\"ok\",\"__proto__\":{\"polluted\":true},\"constructor\":{\"prototype\":{\"polluted\":true}}}"
      )
      const errors = decodeErrors(body)
      expect(new Set(fieldsOf(errors))).toEqual(new Set(["__proto__", "constructor"]))
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(Object.prototype).not.toHaveProperty("polluted")
    })

    it("does not mistake inherited Object.prototype names for fields", () => {
      // A body is only its own keys: `toString` or `hasOwnProperty` are fields only when sent.
      const errors = decodeErrors({ toString: "x", hasOwnProperty: 1 })
      expect(new Set(fieldsOf(errors))).toEqual(new Set(["toString", "hasOwnProperty"]))
      expect(validPatch({ title: "plain" })).toMatchObject({ title: "plain" })
    })
  })

  describe("read-only fields of the wrong type or out of range", () => {
    it.each([
      ["version", 0],
      ["version", -1],
      ["version", 1.5],
      ["version", "3"],
      ["version", null],
      ["node_count", -1],
      ["edge_count", -3],
      ["enrolled_leads", -1],
      ["node_count", 2.5],
      ["edge_count", "6"],
      ["enrolled_leads", Number.MAX_SAFE_INTEGER + 1],
      ["id", 123],
      ["id", null],
      ["id", ""],
      ["id", "not-an-id"],
      ["id", "wfl_"],
      ["organization_id", { id: "org_xyz" }],
      ["organization_id", ""],
      ["organization_id", "nope"],
      ["created_at", 1709283600000],
      ["created_at", "yesterday"],
      ["created_at", "2024-03-01"],
      ["updated_at", "2024-03-01 09:00:00Z"],
      ["updated_at", "2024-03-01T09:00:00"],
      ["updated_at", "2024-13-01T09:00:00Z"],
      ["updated_at", "2024-03-01T09:00:00.1234567890Z"],
      ["created_at", null]
    ])("%s: %j is an error at decode time", (field, value) => {
      const errors = decodeErrors({ title: "ok", [field]: value })
      expect(fieldsOf(errors)).toEqual([field])
    })

    // JavaScript's Date rolls impossible days over (2024-02-30 → 2024-03-01); they must not pass as timestamps.
    it.each([
      ["created_at", "2024-02-30T09:00:00Z"],
      ["updated_at", "2023-02-29T11:00:00.000Z"],
      ["created_at", "2024-04-31T09:00:00Z"]
    ])("%s: %j (no such day) is an error at decode time", (field, value) => {
      const errors = decodeErrors({ title: "ok", [field]: value })
      expect(fieldsOf(errors)).toEqual([field])
    })

    it.each([
      ["version", 1],
      ["node_count", 0],
      ["edge_count", 0],
      ["enrolled_leads", 0],
      ["created_at", "2024-03-01T09:00:00Z"],
      ["created_at", "2024-03-01T10:00:00+01:00"],
      ["updated_at", "2024-03-02T11:00:00.000Z"],
      ["id", "wf_abc123"],
      ["organization_id", "org_xyz"]
    ])("%s: %j is well-typed and decodes", (field, value) => {
      const patch = validPatch({ title: "ok", [field]: value })
      expect(patch).toHaveProperty(field)
    })

    it("reports every wrong read-only field together", () => {
      const errors = decodeErrors({
        version: 0,
        node_count: -1,
        edge_count: -1,
        enrolled_leads: -1,
        created_at: 5,
        updated_at: "later"
      })
      expect(new Set(fieldsOf(errors))).toEqual(
        new Set(["version", "node_count", "edge_count", "enrolled_leads", "created_at", "updated_at"])
      )
    })
  })

  describe("title", () => {
    it("rejects null", () => {
      expect(errorFor({ title: null }, "title").message.length).toBeGreaterThan(0)
    })

    it.each([["a number", 5], ["an object", { value: "x" }], ["a boolean", false], ["an array", ["x"]]])(
      "rejects %s",
      (_, title) => {
        errorFor({ title }, "title")
      }
    )

    it.each(["", "   ", "\t\n "])("rejects a blank title %j", (title) => {
      errorFor({ title }, "title")
    })

    it("trims white space, a leading tab included", () => {
      expect(validPatch({ title: "\tQ3 Outreach  " }).title).toBe("Q3 Outreach")
      expect(validPatch({ title: "\u00a0\u2003Q3\u3000" }).title).toBe("Q3")
    })

    it("accepts 200 code points and rejects 201, counting code points not UTF-16 units", () => {
      const emoji = "😀" // one code point, two UTF-16 units
      const title200 = emoji.repeat(200)
      expect(title200.length).toBe(400)
      expect(validPatch({ title: title200 }).title).toBe(title200)
      errorFor({ title: emoji.repeat(201) }, "title")
      expect(validPatch({ title: "a".repeat(200) }).title).toHaveLength(200)
      errorFor({ title: "a".repeat(201) }, "title")
    })

    it("counts the length after trimming", () => {
      expect(validPatch({ title: `  ${"b".repeat(200)}\t` }).title).toBe("b".repeat(200))
    })

    it.each([
      ["NUL", "\u0000"],
      ["a C0 control (BEL)", "\u0007"],
      ["ESC", "\u001b"],
      ["an inner newline", "\n"],
      ["an inner tab", "\t"],
      ["DEL", "\u007f"],
      ["a C1 control (NEL)", "\u0085"],
      ["a C1 control (CSI)", "\u009b"]
    ])("rejects %s inside the title", (_, control) => {
      errorFor({ title: `Lead${control}Nurture` }, "title")
    })

    it("applies the same rules to name", () => {
      expect(validPatch({ name: " 30-Day Lead Nurture v2 " }).name).toBe("30-Day Lead Nurture v2")
      errorFor({ name: null }, "name")
      errorFor({ name: "x\u007fy" }, "name")
      errorFor({ name: "😀".repeat(201) }, "name")
    })
  })

  describe("half of a UTF-16 surrogate pair (JSON `\\ud800`)", () => {
    it.each([
      ["title", "a\ud800b"],
      ["name", "\udc00"],
      ["description", "trailing \ud83d"]
    ])("%s: %j is not text and is rejected naming the field", (field, value) => {
      const error = errorFor({ [field]: value }, field)
      expect(error.message).toMatch(/valid Unicode/)
    })

    it("a whole pair is one character and is accepted", () => {
      expect(validPatch({ title: "Launch 🚀", description: "😀".repeat(2000) })).toMatchObject({ title: "Launch 🚀" })
    })
  })

  describe("description", () => {
    it("allows newlines, carriage returns and tabs inside", () => {
      const text = "Line one\r\nLine two\n\tindented"
      expect(validPatch({ description: text }).description).toBe(text)
    })

    it.each([["NUL", "\u0000"], ["BEL", "\u0007"], ["DEL", "\u007f"], ["NEL", "\u0085"], ["vertical tab", "\u000b"]])(
      "rejects %s inside",
      (_, control) => {
        errorFor({ description: `before${control}after` }, "description")
      }
    )

    it("accepts 2000 code points and rejects 2001", () => {
      const d2000 = "🚀".repeat(2000)
      expect(validPatch({ description: d2000 }).description).toBe(d2000)
      errorFor({ description: "🚀".repeat(2001) }, "description")
      expect(validPatch({ description: "d".repeat(2000) }).description).toHaveLength(2000)
      errorFor({ description: "d".repeat(2001) }, "description")
    })

    it("trims, and stores a blank description as null", () => {
      expect(validPatch({ description: "  padded\n" }).description).toBe("padded")
      expect(validPatch({ description: "   \n\t" }).description).toBeNull()
      expect(validPatch({ description: "" }).description).toBeNull()
      expect(validPatch({ description: null }).description).toBeNull()
    })

    it.each([["a number", 1], ["an object", {}], ["a boolean", true]])("rejects %s", (_, description) => {
      errorFor({ description }, "description")
    })
  })

  describe("status", () => {
    it("rejects running with a hint to use active", () => {
      const hint = errorFor({ status: "running" }, "status").message
      expect(hint).toMatch(/\bactive\b/)
      // A hint specific to the legacy status, not the generic "must be one of …" list.
      expect(hint).not.toBe(errorFor({ status: "bogus" }, "status").message)
    })

    it.each(["bogus", "Active", "", null, 1])("rejects %j", (status) => {
      errorFor({ status }, "status")
    })

    it.each(["draft", "active", "paused", "completed", "cancelled"] as const)("accepts %s at decode time", (status) => {
      expect(validPatch({ status }).status).toBe(status)
    })
  })

  it("reports every problem of a body at once, each with its field", () => {
    const errors = decodeErrors({
      title: null,
      name: 7,
      description: "a\u0000b",
      status: "running",
      version: 0,
      node_count: -1,
      created_at: 12,
      nodes: [],
      colour: "blue"
    })
    expect(new Set(fieldsOf(errors))).toEqual(
      new Set(["title", "name", "description", "status", "version", "node_count", "created_at", "nodes", "colour"])
    )
    for (const error of errors) expect(error.message.length).toBeGreaterThan(0)
  })

  it("gives a readable message combining the field errors", () => {
    const decoded = decodePatch({ title: null, colour: "blue" })
    expect(Either.isLeft(decoded)).toBe(true)
    if (Either.isLeft(decoded)) {
      expect(decoded.left.message).toContain("title")
      expect(decoded.left.message).toContain("colour")
    }
  })
})
