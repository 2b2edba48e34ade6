import { describe, expect, it } from "@effect/vitest"
import type { Workflow } from "@workflows/domain"
import { Effect } from "effect"
import { databases, withService } from "./databases.js"
import { apiFor, eventsOf, ORG_A, rowOf } from "./support.js"

/**
 * docs/CONTRACT.md §8: concurrent requests never lose an update, a patch racing a lifecycle action sees one
 * consistent order, and `version` never repeats. The audit trail is the witness: replaying the
 * events oldest → newest must reproduce the stored row.
 */
for (const db of databases) {
  describe.concurrent(db.name, () => {
    it.live(
      "200 concurrent patches to two fields plus interleaved pause/resume: nothing lost, one consistent order",
      () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            const created = yield* api.create({ title: "Start", description: "Start description", status: "active" })

            const updates: Array<Effect.Effect<Workflow, unknown>> = []
            const lifecycle: Array<Effect.Effect<Workflow, unknown>> = []
            const calls: Array<
              Effect.Effect<{ readonly kind: "update" | "lifecycle"; readonly workflow: Workflow }, unknown>
            > = []
            for (let i = 0; i < 200; i++) {
              const body = i % 2 === 0 ? { title: `Title ${i}` } : { description: `Description ${i}` }
              const update = api.update(created.id, body)
              updates.push(update)
              calls.push(Effect.map(update, (workflow) => ({ kind: "update" as const, workflow })))
              if (i % 10 === 0) {
                const action = (i / 10) % 2 === 0 ? api.pause(created.id) : api.resume(created.id)
                lifecycle.push(action)
                calls.push(Effect.map(action, (workflow) => ({ kind: "lifecycle" as const, workflow })))
              }
            }
            const results = yield* Effect.all(calls, { concurrency: "unbounded" })
            expect(results).toHaveLength(220)

            const events = yield* eventsOf(created.id)
            const row = yield* rowOf(created.id)
            // version = 1 (create) + one per changing write, and every changing write left one event
            expect(row.version).toBe(events.length)
            const titleEvents = events.filter((e) => e.type === "workflow.updated" && "title" in e.changes)
            const descriptionEvents = events.filter((e) => e.type === "workflow.updated" && "description" in e.changes)
            expect(titleEvents).toHaveLength(100)
            expect(descriptionEvents).toHaveLength(100)
            const statusEvents = events.filter((e) => e.type === "workflow.paused" || e.type === "workflow.resumed")
            expect(events).toHaveLength(1 + 200 + statusEvents.length)
            expect(statusEvents.length).toBeGreaterThanOrEqual(1)
            expect(statusEvents.length).toBeLessThanOrEqual(lifecycle.length)

            // walk the trail: each field's `from` is the previous event's `to`
            const state: Record<string, string | null> = {}
            for (const [index, event] of events.entries()) {
              for (const [field, change] of Object.entries(event.changes)) {
                expect(change.from, `event ${index} (${event.type}) field ${field}`).toBe(state[field] ?? null)
                expect(change.to, `event ${index} (${event.type}) field ${field}`).not.toBe(change.from)
                state[field] = change.to
              }
            }
            expect({ title: row.title, description: row.description, status: row.status }).toEqual(state)

            // every update changed something, so each saw a version of its own
            const updateVersions = results.filter((r) => r.kind === "update").map((r) => r.workflow.version)
            expect(new Set(updateVersions).size).toBe(200)
            for (const version of updateVersions) {
              expect(version).toBeGreaterThan(1)
              expect(version).toBeLessThanOrEqual(row.version)
            }
            // events are ordered in time as well as by sequence
            const times = events.map((e) => e.created_at)
            expect([...times].sort()).toEqual(times)
            expect((yield* api.get(created.id)).version).toBe(row.version)
          })
        ),
      60_000
    )

    it.live("concurrent writers with the same If-Match: exactly one wins, the rest get WorkflowPreconditionFailed", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const created = yield* api.create({ title: "Contended", status: "active" })
          const attempts = Array.from({ length: 20 }, (_, i) =>
            Effect.either(
              i === 7
                ? api.pause(created.id, { if_match: created.etag })
                : api.update(created.id, { title: `Writer ${i}` }, { if_match: created.etag })
            ))
          const outcomes = yield* Effect.all(attempts, { concurrency: "unbounded" })
          const winners = outcomes.filter((o) => o._tag === "Right")
          const losers = outcomes.filter((o) => o._tag === "Left")
          expect(winners).toHaveLength(1)
          for (const loser of losers) expect(loser.left._tag).toBe("WorkflowPreconditionFailed")
          const row = yield* rowOf(created.id)
          expect(row.version).toBe(2)
          expect(yield* eventsOf(created.id)).toHaveLength(2)
        })
      ))

    it.live("writes to different workflows in parallel do not interfere", () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const workflows = yield* Effect.all(
            Array.from({ length: 10 }, (_, i) => api.create({ title: `W${i}`, status: "active" })),
            { concurrency: "unbounded" }
          )
          yield* Effect.all(
            workflows.flatMap((w, i) => [
              api.update(w.id, { description: `D${i}` }),
              api.update(w.id, { title: `W${i} renamed` }),
              api.cancel(w.id)
            ]),
            { concurrency: "unbounded" }
          )
          for (const [i, w] of workflows.entries()) {
            const row = yield* rowOf(w.id)
            expect(row).toEqual(
              expect.objectContaining({ title: `W${i} renamed`, description: `D${i}`, status: "cancelled", version: 4 })
            )
            expect(yield* eventsOf(w.id)).toHaveLength(4)
          }
        })
      ))
  })
}
