import { describe, expect, it } from "@effect/vitest"
import type { WorkflowsService } from "@workflows/http"
import { Effect } from "effect"
import { type Action, ACTIONS, ALLOWED_ACTIONS, LIFECYCLE_TABLE, STATUSES } from "../../domain/test/lifecycle-table.js"
import { databases, withService } from "./databases.js"
import {
  apiFor,
  eventsOf,
  failsWithoutWriting,
  insertWorkflow,
  KEY_ACTOR,
  OLD_TIME,
  ORG_A,
  rowOf,
  succeedsWithoutWriting
} from "./support.js"

const eventType: { readonly [A in Action]: string } = {
  activate: "workflow.activated",
  pause: "workflow.paused",
  resume: "workflow.resumed",
  cancel: "workflow.cancelled",
  complete: "workflow.completed"
}

const call = (api: WorkflowsService, action: Action) => api[action]

for (const db of databases) {
  describe.concurrent(db.name, () => {
    for (const action of ACTIONS) {
      it.live(`${action} from every status`, () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            for (const status of STATUSES) {
              const label = `${action} from ${status}`
              const stored = yield* insertWorkflow({ status, version: 5 })
              const outcome = LIFECYCLE_TABLE[status][action]
              const reason = `because ${label}`
              switch (outcome.kind) {
                case "moved": {
                  const result = yield* call(api, action)(stored.id, { body: { reason }, if_match: "\"5\"" })
                  const row = yield* rowOf(stored.id)
                  expect(result.status, label).toBe(outcome.to)
                  expect(result.version, label).toBe(6)
                  expect(row, label).toEqual({ ...stored, status: outcome.to, version: 6, updated_at: row.updated_at })
                  expect(row.updated_at > OLD_TIME, label).toBe(true)
                  expect(result.updated_at.toJSON(), label).toBe(row.updated_at)
                  const events = yield* eventsOf(stored.id)
                  expect(events, label).toHaveLength(1)
                  expect(events[0], label).toEqual(
                    expect.objectContaining({
                      type: eventType[action],
                      workflow_id: stored.id,
                      organization_id: ORG_A,
                      actor: KEY_ACTOR,
                      request_id: "req-test-1",
                      reason,
                      changes: { status: { from: status, to: outcome.to } },
                      created_at: row.updated_at
                    })
                  )
                  break
                }
                case "unchanged": {
                  const result = yield* succeedsWithoutWriting(
                    call(api, action)(stored.id, { body: { reason }, if_match: "\"5\"" })
                  )
                  expect(result.status, label).toBe(status)
                  expect(result.version, label).toBe(5)
                  expect(result.updated_at.toJSON(), label).toBe(OLD_TIME)
                  break
                }
                case "conflict": {
                  const error = yield* failsWithoutWriting(call(api, action)(stored.id, { body: { reason } }))
                  expect(error, label).toEqual(
                    expect.objectContaining({
                      _tag: "WorkflowStatusConflict",
                      current_status: status,
                      requested_status: outcome.requested,
                      allowed_actions: ALLOWED_ACTIONS[status]
                    })
                  )
                  break
                }
              }
            }
          })
        ))
    }

    it.live("a full life: draft → active → paused → active → completed, one event per real move", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const created = yield* api.create({ title: "Life" })
          yield* api.activate(created.id)
          yield* api.activate(created.id)
          yield* api.pause(created.id, { body: { reason: "holiday" } })
          yield* api.pause(created.id)
          yield* api.resume(created.id, { body: {} })
          const done = yield* api.complete(created.id)
          expect(done.status).toBe("completed")
          expect(done.version).toBe(5)
          const events = yield* eventsOf(created.id)
          expect(events.map((e) => [e.type, e.changes.status, e.reason])).toEqual([
            ["workflow.created", { from: null, to: "draft" }, null],
            ["workflow.activated", { from: "draft", to: "active" }, null],
            ["workflow.paused", { from: "active", to: "paused" }, "holiday"],
            ["workflow.resumed", { from: "paused", to: "active" }, null],
            ["workflow.completed", { from: "active", to: "completed" }, null]
          ])
          const listed = yield* api.events(created.id)
          expect(listed.data.map((e) => e.type)).toEqual(events.map((e) => e.type).reverse())
        })
      ))

    it.live("reason: recorded trimmed, null when absent or blank, 500 characters at most", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const a = yield* insertWorkflow({ status: "active" })
          const b = yield* insertWorkflow({ status: "active" })
          const c = yield* insertWorkflow({ status: "active" })
          const d = yield* insertWorkflow({ status: "active" })
          yield* api.pause(a.id)
          yield* api.pause(b.id, { body: { reason: null } })
          yield* api.pause(c.id, { body: { reason: "   " } })
          const exact = "é".repeat(499) + "😀"
          yield* api.pause(d.id, { body: { reason: `  ${exact}\n` } })
          expect((yield* eventsOf(a.id))[0]!.reason).toBeNull()
          expect((yield* eventsOf(b.id))[0]!.reason).toBeNull()
          expect((yield* eventsOf(c.id))[0]!.reason).toBeNull()
          expect((yield* eventsOf(d.id))[0]!.reason).toBe(exact)
          const e = yield* insertWorkflow({ status: "active" })
          const tooLong = yield* failsWithoutWriting(api.pause(e.id, { body: { reason: "r".repeat(501) } }))
          expect(tooLong).toEqual(
            expect.objectContaining({
              _tag: "WorkflowValidationError",
              errors: [expect.objectContaining({ field: "reason" })]
            })
          )
          expect((yield* rowOf(e.id)).status).toBe("active")
        })
      ))

    it.live("lifecycle bodies: unknown fields, wrong types and non-objects are validation errors, before 404/412/409", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const stored = yield* insertWorkflow({ status: "active", version: 2 })
          const bodies: ReadonlyArray<readonly [unknown, ReadonlyArray<string | null>]> = [
            [{ reasn: "typo" }, ["reasn"]],
            [{ reason: 5 }, ["reason"]],
            [{ reason: "ok", status: "paused" }, ["status"]],
            [{ reason: "bad\u0000nul" }, ["reason"]],
            [[], [null]],
            ["text", [null]],
            [null, [null]]
          ]
          for (const [body, fields] of bodies) {
            for (
              const [id, ifMatch] of [[stored.id, undefined], ["wfl_missing", undefined], [stored.id, "\"1\""]] as const
            ) {
              const error = yield* failsWithoutWriting(
                api.pause(id, { body: body as never, ...(ifMatch === undefined ? {} : { if_match: ifMatch }) })
              )
              expect(error._tag, JSON.stringify([body, id, ifMatch])).toBe("WorkflowValidationError")
              expect(
                (error as { errors: ReadonlyArray<{ field: string | null }> }).errors.map((e) => e.field),
                JSON.stringify(body)
              ).toEqual(fields)
            }
          }
          // a validation error wins over a status conflict too
          const draft = yield* insertWorkflow({ status: "draft" })
          const error = yield* failsWithoutWriting(api.pause(draft.id, { body: { extra: 1 } }))
          expect(error._tag).toBe("WorkflowValidationError")
        })
      ))

    it.live("If-Match: a stale tag fails even when the action would be a no-op; 412 before 409; * and the current tag pass", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const paused = yield* insertWorkflow({ status: "paused", version: 4 })
          for (const ifMatch of ["\"3\"", "W/\"4\"", "4"]) {
            const noopCall = yield* failsWithoutWriting(api.pause(paused.id, { if_match: ifMatch }))
            expect(noopCall, ifMatch).toEqual(
              expect.objectContaining({ _tag: "WorkflowPreconditionFailed", if_match: ifMatch, current_etag: "\"4\"" })
            )
          }
          const conflictCall = yield* failsWithoutWriting(api.complete(paused.id, { if_match: "\"3\"" }))
          expect(conflictCall._tag).toBe("WorkflowPreconditionFailed")
          const moveCall = yield* failsWithoutWriting(api.resume(paused.id, { if_match: "\"3\"" }))
          expect(moveCall._tag).toBe("WorkflowPreconditionFailed")
          // 404 comes before 412
          const missing = yield* failsWithoutWriting(api.resume("wfl_missing", { if_match: "\"3\"" }))
          expect(missing._tag).toBe("WorkflowNotFound")
          expect((yield* api.pause(paused.id, { if_match: "*" })).version).toBe(4)
          expect((yield* api.resume(paused.id, { if_match: "\"9\", \"4\"" })).version).toBe(5)
          expect((yield* api.pause(paused.id, { if_match: "*" })).version).toBe(6)
          expect(yield* eventsOf(paused.id)).toHaveLength(2)
        })
      ))

    it.live("lifecycle calls on a malformed or missing id are WorkflowNotFound and write nothing", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          for (const action of ACTIONS) {
            for (const id of ["wfl_missing", "garbage", "wf_"]) {
              const error = yield* failsWithoutWriting(call(api, action)(id))
              expect(error, `${action} ${id}`).toEqual(expect.objectContaining({ _tag: "WorkflowNotFound", id }))
            }
          }
        })
      ))

    it.live("a patch and lifecycle calls interleave with consistent versions and events", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const created = yield* api.create({ title: "Mixed", status: "active" })
          const paused = yield* api.pause(created.id, { if_match: created.etag })
          const edited = yield* api.update(created.id, { title: "Mixed, paused" }, { if_match: paused.etag })
          const stale = yield* failsWithoutWriting(api.resume(created.id, { if_match: paused.etag }))
          expect(stale._tag).toBe("WorkflowPreconditionFailed")
          const resumed = yield* api.resume(created.id, { if_match: edited.etag })
          expect([created.version, paused.version, edited.version, resumed.version]).toEqual([1, 2, 3, 4])
          expect(resumed.title).toBe("Mixed, paused")
          expect((yield* eventsOf(created.id)).map((e) => e.type)).toEqual([
            "workflow.created",
            "workflow.paused",
            "workflow.updated",
            "workflow.resumed"
          ])
        })
      ))
  })
}
