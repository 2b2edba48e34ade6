import { describe, expect, it } from "@effect/vitest"
import { guard, OrganizationId, Workflow, WorkflowEvent, WorkflowId, WorkflowJson } from "@workflows/domain"
import { Arbitrary, Schema } from "effect"
import * as fc from "effect/FastCheck"

/** A value with one field, possibly nested, replaced, set to undefined, removed or added. */
const mutate = (value: unknown, depth = 2): fc.Arbitrary<unknown> => {
  if (typeof value !== "object" || value === null || depth === 0) return fc.anything()
  const keys = Object.keys(value)
  return fc.tuple(
    fc.constantFrom(...keys, "extra_field"),
    fc.constantFrom("replace", "undefined", "remove", "nested"),
    fc.anything()
  ).chain(([key, how, replacement]) => {
    const copy: Record<string, unknown> = { ...value }
    if (how === "remove") delete copy[key]
    else if (how === "undefined") copy[key] = undefined
    else if (how === "replace") copy[key] = replacement
    else return mutate(copy[key], depth - 1).map((inner) => ({ ...copy, [key]: inner }))
    return fc.constant(copy)
  })
}

/** Valid values, broken ones and anything at all. */
const inputs = <A, I>(schema: Schema.Schema<A, I>) =>
  fc.oneof(Arbitrary.make(schema), Arbitrary.make(schema).chain((v) => mutate(v)), fc.anything())

const Row = Schema.encodedBoundSchema(Workflow)
const Wire = Schema.encodedBoundSchema(WorkflowJson)
const EventFields = Schema.Struct(WorkflowEvent.fields)
const cases: ReadonlyArray<readonly [string, Schema.Schema<unknown>]> = [
  ["a workflow row", Row as Schema.Schema<unknown>],
  ["a workflow's wire form", Wire as Schema.Schema<unknown>],
  ["an event", EventFields as unknown as Schema.Schema<unknown>],
  ["an event's wire form", Schema.encodedBoundSchema(WorkflowEvent) as unknown as Schema.Schema<unknown>],
  ["a workflow id", WorkflowId as unknown as Schema.Schema<unknown>],
  ["an organization id", OrganizationId as unknown as Schema.Schema<unknown>],
  ["a title", Workflow.fields.title as Schema.Schema<unknown>],
  ["a description", Workflow.fields.description as Schema.Schema<unknown>],
  ["a status", Workflow.fields.status as Schema.Schema<unknown>],
  ["a version", Workflow.fields.version as unknown as Schema.Schema<unknown>],
  [
    "a struct with optional fields, a record and a refined struct (left to Schema.is)",
    Schema.Struct({
      a: Schema.optional(Schema.Number),
      b: Schema.optionalWith(Schema.String, { exact: true }),
      c: Schema.Record({ key: Schema.String, value: Schema.Boolean }),
      d: Schema.Struct({ x: Schema.Number }).pipe(Schema.filter((s) => Object.keys(s).length === 1))
    }) as unknown as Schema.Schema<unknown>
  ]
]

describe("guard", () => {
  for (const [what, schema] of cases) {
    it(`answers as Schema.is does, for ${what}`, () => {
      const ours = guard(schema)
      const theirs = Schema.is(schema)
      fc.assert(
        fc.property(inputs(schema), (u) => {
          expect(ours(u)).toBe(theirs(u))
        }),
        { numRuns: 2000 }
      )
    })
  }

  it("refuses what the schemas refuse, field by field", () => {
    const isRow = guard(Row)
    const row = {
      id: "wfl_0123456789abcdefghijklm",
      organization_id: "org_alpha",
      title: "Lead Nurture",
      description: null,
      status: "draft",
      node_count: 0,
      edge_count: 0,
      enrolled_leads: 0,
      version: 1,
      created_at: "2026-11-29T10:00:00.123Z",
      updated_at: "2026-11-29T10:00:00.456Z"
    }
    expect(isRow(row)).toBe(true)
    for (
      const change of [
        { id: "wf-1" },
        { organization_id: "org-1" },
        { status: "bogus" },
        { node_count: -1 },
        { node_count: 1.5 },
        { version: 0 },
        { description: 3 },
        { title: undefined },
        { created_at: null }
      ]
    ) {
      expect(isRow({ ...row, ...change }), JSON.stringify(change)).toBe(false)
    }
    const { title: _title, ...untitled } = row
    expect(isRow(untitled)).toBe(false)
  })
})
