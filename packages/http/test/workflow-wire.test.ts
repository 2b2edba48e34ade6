import { describe, expect, it } from "@effect/vitest"
import { Workflow, WorkflowEvent, WorkflowJson } from "@workflows/domain"
import { encodeWorkflowEventJson, encodeWorkflowJson } from "@workflows/http"
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
      { created_at: "2026-11-29" },
      { updated_at: DateTime.unsafeMakeZoned("2026-11-29T10:00:00.456Z", { timeZone: "Europe/Paris" }) }
    ]
    for (const change of broken) {
      const workflow = new Workflow({ ...valid, ...change } as never, { disableValidation: true })
      expect(Either.isLeft(encodeWorkflowJson(workflow)), JSON.stringify(change)).toBe(true)
    }
  })
})

const encodeEventBySchema = Schema.encodeEither(WorkflowEvent)

const validEvent = {
  id: "evt_0123456789abcdefghijklm",
  workflow_id: valid.id,
  organization_id: valid.organization_id,
  type: "workflow.updated",
  actor: { type: "api_key", id: "key_testactor01" },
  request_id: "req-1",
  reason: null,
  changes: { title: { from: "Old", to: "New" } },
  created_at: valid.updated_at
} as const

/** Every key of a JSON value, depth first: equal lists mean the same fields in the same order everywhere. */
const keyPaths = (value: unknown, prefix = ""): ReadonlyArray<string> =>
  typeof value === "object" && value !== null
    ? Object.entries(value).flatMap(([key, inner]) => [`${prefix}${key}`, ...keyPaths(inner, `${prefix}${key}.`)])
    : []

describe("an event's response body", () => {
  it("is exactly what WorkflowEvent encodes it to, for any event", () => {
    fc.assert(
      fc.property(Arbitrary.make(WorkflowEvent), (event) => {
        const ours = encodeWorkflowEventJson(event)
        const schemas = encodeEventBySchema(event)
        expect(ours).toStrictEqual(schemas)
        // The same bytes on the wire: the fields in the same order, inside the actor and the changes too.
        expect(keyPaths(Either.getOrThrow(ours))).toEqual(keyPaths(Either.getOrThrow(schemas)))
        expect(JSON.stringify(Either.getOrThrow(ours))).toBe(JSON.stringify(Either.getOrThrow(schemas)))
      }),
      { numRuns: 500 }
    )
  })

  it("names only the schema's fields, in its order, whatever the actor and changes carry besides", () => {
    const event = new WorkflowEvent({
      ...validEvent,
      actor: { id: "key_testactor01", type: "api_key", secret: "not for the wire" },
      changes: { title: { to: "New", from: "Old", note: "extra" } }
    } as never, { disableValidation: true })
    const ours = Either.getOrThrow(encodeWorkflowEventJson(event))
    expect(JSON.stringify(ours)).toBe(JSON.stringify(Either.getOrThrow(encodeEventBySchema(event))))
    expect(ours.actor).toStrictEqual({ type: "api_key", id: "key_testactor01" })
    expect(ours.changes).toStrictEqual({ title: { from: "Old", to: "New" } })
  })

  it("is refused when the event breaks its schema (a 500, never a wrong body)", () => {
    const broken = [
      { id: "not-an-event-id" },
      { workflow_id: "nope" },
      { type: "workflow.deleted" },
      { actor: { type: "robot" } },
      { actor: { type: "api_key" } },
      { actor: null },
      { request_id: 7 },
      { changes: { title: { from: 1, to: "x" } } },
      { changes: { title: null } },
      { changes: null },
      { created_at: "2026-11-29" },
      { created_at: DateTime.unsafeMakeZoned("2026-11-29T10:00:00.456Z", { timeZone: "Europe/Paris" }) }
    ]
    for (const change of broken) {
      const event = new WorkflowEvent({ ...validEvent, ...change } as never, { disableValidation: true })
      const ours = encodeWorkflowEventJson(event)
      expect(Either.isLeft(ours), JSON.stringify(change)).toBe(true)
      expect(ours).toStrictEqual(encodeEventBySchema(event))
    }
  })
})
