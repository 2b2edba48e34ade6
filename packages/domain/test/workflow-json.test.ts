import { describe, expect, it } from "@effect/vitest"
import { etagOf, Workflow, WorkflowJson } from "@workflows/domain"
import { DateTime, Either, Schema } from "effect"
import { stored } from "./fixtures.js"

const encode = Schema.encodeSync(WorkflowJson)
const decode = Schema.decodeUnknownEither(WorkflowJson)

describe("WorkflowJson: the wire form of a record", () => {
  it("carries name with the same value as title", () => {
    const json = encode(stored({ title: "Q3 Outreach 😀" }))
    expect(json.title).toBe("Q3 Outreach 😀")
    expect(json.name).toBe("Q3 Outreach 😀")
  })

  it("writes every field of the record, timestamps as ISO-8601 UTC with milliseconds", () => {
    const json = encode(stored({ created_at: "2024-03-01T09:00:00Z", updated_at: "2024-03-02T12:00:00.5+01:00" }))
    expect(json).toEqual({
      id: "wf_abc123",
      organization_id: "org_xyz",
      title: "Lead Nurture Sequence",
      name: "Lead Nurture Sequence",
      description: "Contacts cold leads three times before marking as unresponsive.",
      status: "active",
      node_count: 5,
      edge_count: 6,
      enrolled_leads: 420,
      version: 3,
      created_at: "2024-03-01T09:00:00.000Z",
      updated_at: "2024-03-02T11:00:00.500Z"
    })
  })

  it("returns a legacy running status as stored", () => {
    expect(encode(stored({ status: "running" })).status).toBe("running")
  })

  it("keeps a null description as null", () => {
    expect(encode(stored({ description: null })).description).toBeNull()
  })

  it("decodes its own JSON text back to the same record", () => {
    const original = stored({ status: "paused", description: null, version: 17 })
    const decoded = decode(JSON.parse(JSON.stringify(encode(original))))
    expect(Either.isRight(decoded)).toBe(true)
    if (Either.isRight(decoded)) {
      expect(decoded.right).toBeInstanceOf(Workflow)
      expect(encode(decoded.right)).toEqual(encode(original))
      expect(DateTime.Equivalence(decoded.right.created_at, original.created_at)).toBe(true)
      expect(decoded.right.etag).toBe("\"17\"")
    }
  })

  it.each([
    ["an id outside the pattern", { id: "abc" }],
    ["an unknown status", { status: "bogus" }],
    ["version 0", { version: 0 }],
    ["a negative count", { node_count: -1 }],
    ["a non-timestamp", { created_at: "soon" }]
  ])("refuses to decode %s", (_, override) => {
    expect(Either.isLeft(decode({ ...encode(stored()), ...override }))).toBe(true)
  })

  it("the ETag is the quoted version", () => {
    expect(etagOf(42)).toBe("\"42\"")
    expect(stored({ version: 3 }).etag).toBe("\"3\"")
  })
})
