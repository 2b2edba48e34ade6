import { describe, expect, it } from "@effect/vitest"
import { Workflow, WorkflowJson } from "@workflows/domain"
import { encodeWorkflowJson } from "@workflows/http"
import { Arbitrary, DateTime, Either, Schema } from "effect"
import * as fc from "effect/FastCheck"

const encodeBySchema = Schema.encodeEither(WorkflowJson)

const valid = {
  id: "wfl_0123456789abcdefghijklm",
  organization_id: "org_alpha",
  title: "Lead Nurture",
  description: null,
  status: "draft",
  node_count: 0,
  edge_count: 0,
  enrolled_leads: 0,
  version: 1,
  created_at: DateTime.unsafeMake("2026-11-29T10:00:00.123Z"),
  updated_at: DateTime.unsafeMake("2026-11-29T10:00:00.456Z")
} as const

describe("a workflow's response body", () => {
  it("is exactly what WorkflowJson encodes it to, for any workflow", () => {
    fc.assert(
      fc.property(Arbitrary.make(Workflow), (workflow) => {
        const ours = encodeWorkflowJson(workflow)
        const schemas = encodeBySchema(workflow)
        expect(ours).toStrictEqual(schemas)
        // The same bytes on the wire: the fields in the same order too.
        expect(Object.keys(Either.getOrThrow(ours))).toEqual(Object.keys(Either.getOrThrow(schemas)))
      }),
      { numRuns: 500 }
    )
  })

  it("is refused when the workflow breaks its schema (a 500, never a wrong body)", () => {
    const broken = [
      { node_count: -1 },
      { version: 0 },
      { status: "bogus_status" },
      { id: "not-an-id" },
      { title: 42 },
      { created_at: "2026-11-29" }
    ]
    for (const change of broken) {
      const workflow = new Workflow({ ...valid, ...change } as never, { disableValidation: true })
      expect(Either.isLeft(encodeWorkflowJson(workflow)), JSON.stringify(change)).toBe(true)
    }
  })
})
