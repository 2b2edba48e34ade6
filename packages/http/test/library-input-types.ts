/**
 * Compile-time test, checked by `tsc -b` (this folder's tsconfig), never run: a library caller's
 * inputs take the request schemas' encoded types, so a misspelt field or a wrong type does not
 * compile, while ids stay plain strings checked at run time. Each `@ts-expect-error` fails the
 * type-check if the line below it ever compiles.
 */
import { Workflows } from "@workflows/http"
import { Effect } from "effect"

export const program = Effect.gen(function*() {
  const workflows = yield* Workflows
  const created = yield* workflows.create({ title: "Q3 Outreach", description: null, status: "active" })
  yield* workflows.create({ name: "By its alias" })
  yield* workflows.update("wfl_anyplainstring", { title: "x" })
  yield* workflows.update(created.id, {
    name: "Renamed",
    description: "Calls",
    status: "active",
    version: created.version
  })
  yield* workflows.activate(created.id, { body: { reason: "launch" }, if_match: created.etag })
  yield* workflows.list({ status: "active", limit: 10 })
  yield* workflows.events(created.id, { limit: "5", starting_after: "evt_x" })

  // @ts-expect-error a misspelt field
  yield* workflows.update(created.id, { titel: "x" })
  // @ts-expect-error a title is text
  yield* workflows.update(created.id, { title: 5 })
  // @ts-expect-error running is never requested
  yield* workflows.update(created.id, { status: "running" })
  // @ts-expect-error nodes are owned by another service
  yield* workflows.update(created.id, { nodes: [] })
  // @ts-expect-error a description is text or null
  yield* workflows.update(created.id, { description: 1 })
  // @ts-expect-error a version is a number
  yield* workflows.update(created.id, { version: "3" })
  // @ts-expect-error a new workflow starts draft or active
  yield* workflows.create({ title: "x", status: "paused" })
  // @ts-expect-error a misspelt field
  yield* workflows.create({ titel: "x" })
  // @ts-expect-error a lifecycle body holds only a reason
  yield* workflows.pause(created.id, { body: { why: "x" } })
  // @ts-expect-error the audit trail has no status filter
  yield* workflows.events(created.id, { status: "active" })
  // @ts-expect-error an unknown status filter
  yield* workflows.list({ status: "bogus" })
})
