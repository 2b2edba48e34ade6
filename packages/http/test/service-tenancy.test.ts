import { describe, expect, it } from "@effect/vitest"
import {
  WorkflowNotFound,
  type WorkflowPreconditionFailed,
  type WorkflowStatusConflict,
  type WorkflowValidationError
} from "@workflows/domain"
import { Effect } from "effect"
import { databases, withService } from "./databases.js"
import { apiFor, eventsOf, failsWithoutWriting, ORG_A, ORG_B, rowOf } from "./support.js"

type WorkflowError = WorkflowNotFound | WorkflowValidationError | WorkflowStatusConflict | WorkflowPreconditionFailed

/** docs/CONTRACT.md §2 step 4 and §7: another organization's workflow is indistinguishable from a missing one. */
for (const db of databases) {
  describe.concurrent(db.name, () => {
    it.live("org B cannot get, update, transition or read the events of org A's workflow", () =>
      withService(db)(
        Effect.gen(function*() {
          const a = yield* apiFor(ORG_A)
          const b = yield* apiFor(ORG_B)
          const owned = yield* a.create({ title: "Alpha's", description: "secret plans" })
          const rowBefore = yield* rowOf(owned.id)
          const missing = "wfl_000000000000"

          // Each call answers exactly as it does for an id that does not exist.
          const attempts: ReadonlyArray<readonly [string, (id: string) => Effect.Effect<unknown, WorkflowError>]> = [
            ["get", (id: string) => b.get(id)],
            ["update", (id: string) => b.update(id, { title: "Stolen" })],
            ["update with If-Match", (id: string) => b.update(id, { title: "Stolen" }, { if_match: "\"1\"" })],
            ["update with status", (id: string) => b.update(id, { status: "paused" })],
            ["activate", (id: string) => b.activate(id)],
            ["pause", (id: string) => b.pause(id)],
            ["resume", (id: string) => b.resume(id)],
            ["cancel", (id: string) => b.cancel(id, { body: { reason: "hostile" } })],
            ["complete", (id: string) => b.complete(id)],
            ["events", (id: string) => b.events(id)]
          ]
          for (const [label, attempt] of attempts) {
            const foreign = yield* failsWithoutWriting(attempt(owned.id))
            const absent = yield* failsWithoutWriting(attempt(missing))
            expect(foreign, label).toEqual(new WorkflowNotFound({ id: owned.id }))
            expect(absent, label).toEqual(new WorkflowNotFound({ id: missing }))
            expect(foreign.message.replace(owned.id, "X"), label).toBe(absent.message.replace(missing, "X"))
          }
          expect(yield* rowOf(owned.id)).toEqual(rowBefore)
          expect(yield* eventsOf(owned.id)).toHaveLength(1)
          // org A still sees and changes its own workflow
          expect((yield* a.get(owned.id)).title).toBe("Alpha's")
          expect((yield* a.activate(owned.id)).status).toBe("active")
        })
      ))

    it.live("lists are per organization, and another organization's id is an unknown cursor", () =>
      withService(db)(
        Effect.gen(function*() {
          const a = yield* apiFor(ORG_A)
          const b = yield* apiFor(ORG_B)
          const ownedA = yield* a.create({ title: "A1" })
          yield* a.create({ title: "A2", status: "active" })
          const ownedB = yield* b.create({ title: "B1", status: "active" })
          expect((yield* a.list()).data.map((w) => w.title).sort()).toEqual(["A1", "A2"])
          expect((yield* b.list()).data.map((w) => w.id)).toEqual([ownedB.id])
          expect((yield* b.list({ status: "active" })).data.map((w) => w.id)).toEqual([ownedB.id])
          expect((yield* b.list({ status: "draft" })).data).toEqual([])
          const cursor = yield* Effect.flip(b.list({ starting_after: ownedA.id }))
          expect(cursor).toEqual(
            expect.objectContaining({
              _tag: "WorkflowValidationError",
              errors: [expect.objectContaining({ field: "starting_after" })]
            })
          )
          const missingCursor = yield* Effect.flip(b.list({ starting_after: "wfl_000000000000" }))
          expect(missingCursor).toEqual(cursor)
        })
      ))

    it.live("an event id of another organization's workflow is not a cursor for one's own", () =>
      withService(db)(
        Effect.gen(function*() {
          const a = yield* apiFor(ORG_A)
          const b = yield* apiFor(ORG_B)
          const ownedA = yield* a.create({ title: "A1" })
          const ownedB = yield* b.create({ title: "B1" })
          const eventA = (yield* a.events(ownedA.id)).data[0]!
          const error = yield* Effect.flip(b.events(ownedB.id, { starting_after: eventA.id }))
          expect(error).toEqual(
            expect.objectContaining({
              _tag: "WorkflowValidationError",
              errors: [expect.objectContaining({ field: "starting_after" })]
            })
          )
        })
      ))

    it.live("events record the caller's organization, and the same id cannot collide across organizations", () =>
      withService(db)(
        Effect.gen(function*() {
          const b = yield* apiFor(ORG_B)
          const created = yield* b.create({ title: "Beta's" })
          yield* b.update(created.id, { description: "x" })
          const events = yield* eventsOf(created.id)
          expect(events.map((e) => e.organization_id)).toEqual([ORG_B, ORG_B])
          expect((yield* rowOf(created.id)).organization_id).toBe(ORG_B)
        })
      ))
  })
}
