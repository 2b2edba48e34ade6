import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { databases, withService } from "./databases.js"
import {
  apiFor,
  eventsOf,
  failsWithoutWriting,
  freshId,
  insertWorkflow,
  ORG_A,
  rowOf,
  succeedsWithoutWriting
} from "./support.js"

/** docs/CONTRACT.md §1: `running` exists only on old records, behaves exactly like `active`, and is returned unchanged. */
const legacy = insertWorkflow({ id: freshId("wf_"), status: "running", title: "Old campaign", version: 7 })

for (const db of databases) {
  describe.concurrent(db.name, () => {
    it.live("a legacy running row is read back as running", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const row = yield* legacy
          expect(row.id).toMatch(/^wf_/)
          const read = yield* api.get(row.id)
          expect(read.status).toBe("running")
          expect(read.version).toBe(7)
        })
      ))

    it.live("PATCH status active is accepted: a no-op, or a title change that keeps running", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const row = yield* legacy
          const same = yield* succeedsWithoutWriting(api.update(row.id, { status: "active", title: "Old campaign" }))
          expect(same.status).toBe("running")
          expect(same.version).toBe(7)
          const changed = yield* api.update(row.id, { status: "active", title: "Renamed campaign" }, {
            if_match: "\"7\""
          })
          expect(changed.status).toBe("running")
          expect(changed.version).toBe(8)
          const stored = yield* rowOf(row.id)
          expect(stored).toEqual({ ...row, title: "Renamed campaign", version: 8, updated_at: stored.updated_at })
          expect((yield* eventsOf(row.id)).map((e) => e.changes)).toEqual([
            { title: { from: "Old campaign", to: "Renamed campaign" } }
          ])
        })
      ))

    it.live("PATCH status paused is a conflict naming running; status running itself is a validation error", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const row = yield* legacy
          const conflict = yield* failsWithoutWriting(api.update(row.id, { status: "paused", title: "x" }))
          expect(conflict).toEqual(
            expect.objectContaining({
              _tag: "WorkflowStatusConflict",
              current_status: "running",
              requested_status: "paused",
              allowed_actions: ["pause", "cancel"]
            })
          )
          const running = yield* failsWithoutWriting(api.update(row.id, { status: "running", title: "x" }))
          expect(running).toEqual(
            expect.objectContaining({
              _tag: "WorkflowValidationError",
              errors: [expect.objectContaining({ field: "status", message: expect.stringMatching(/active/) })]
            })
          )
          const onlyStatus = yield* failsWithoutWriting(api.update(row.id, { status: "active" }))
          expect(onlyStatus._tag).toBe("WorkflowValidationError")
        })
      ))

    it.live("pause works, recording running → paused; activate and resume are no-ops", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const row = yield* legacy
          expect((yield* succeedsWithoutWriting(api.activate(row.id))).status).toBe("running")
          expect((yield* succeedsWithoutWriting(api.resume(row.id))).status).toBe("running")
          const paused = yield* api.pause(row.id, { if_match: "\"7\"" })
          expect(paused.status).toBe("paused")
          expect((yield* rowOf(row.id)).status).toBe("paused")
          expect((yield* eventsOf(row.id)).map((e) => [e.type, e.changes])).toEqual([
            ["workflow.paused", { status: { from: "running", to: "paused" } }]
          ])
          // it comes back as active, never as running
          expect((yield* api.resume(row.id)).status).toBe("active")
        })
      ))

    it.live("cancel and complete leave running too", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const one = yield* legacy
          const two = yield* insertWorkflow({ id: freshId("wf_"), status: "running" })
          expect((yield* api.cancel(one.id)).status).toBe("cancelled")
          expect((yield* api.complete(two.id)).status).toBe("completed")
          expect((yield* eventsOf(two.id))[0]!.changes).toEqual({ status: { from: "running", to: "completed" } })
        })
      ))

    it.live("list with status=active includes running rows, returned as running", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const row = yield* legacy
          const active = yield* insertWorkflow({ status: "active", created_at: "2019-01-01T00:00:00.000Z" })
          yield* insertWorkflow({ status: "paused" })
          yield* insertWorkflow({ status: "draft" })
          const listed = yield* api.list({ status: "active" })
          expect(listed.data.map((w) => [w.id, w.status])).toEqual([
            [row.id, "running"],
            [active.id, "active"]
          ])
          const all = yield* api.list()
          expect(all.data.find((w) => w.id === row.id)?.status).toBe("running")
        })
      ))
  })
}
