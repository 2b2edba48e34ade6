import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { OrganizationId, WorkflowJson } from "@workflows/domain"
import { Workflows, WorkflowStore } from "@workflows/http"
import { Effect, Schema } from "effect"
import { databases, withService } from "./databases.js"
import {
  apiFor,
  countOf,
  eventsOf,
  expectIsoMillis,
  failsWithoutWriting,
  KEY_ACTOR,
  ORG_A,
  ORG_B,
  rowOf
} from "./support.js"

const fieldsOf = (error: unknown) =>
  (error as { readonly errors: ReadonlyArray<{ readonly field: string | null }> }).errors.map((e) => e.field)

const tableCounts = Effect.all({
  workflows: countOf("workflows"),
  events: countOf("workflow_events"),
  keys: countOf("idempotency_keys")
})

for (const db of databases) {
  describe.concurrent(db.name, () => {
    describe("create", () => {
      it.live("stores a draft at version 1 and one workflow.created event listing title and status from null", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A, { request_id: "req-create" })
            const created = yield* api.create({ name: "  Lead nurture  " })
            expect(created.id).toMatch(/^wfl_[0-9a-z]{12}$/)
            const row = yield* rowOf(created.id)
            expect(row).toEqual({
              id: created.id,
              organization_id: ORG_A,
              title: "Lead nurture",
              description: null,
              status: "draft",
              node_count: 0,
              edge_count: 0,
              enrolled_leads: 0,
              version: 1,
              created_at: row.created_at,
              updated_at: row.created_at
            })
            expectIsoMillis(row.created_at)
            expect(Math.abs(Date.parse(row.created_at) - Date.now())).toBeLessThan(60_000)
            expect(Schema.encodeSync(WorkflowJson)(created)).toEqual({ ...row, name: "Lead nurture" })
            const events = yield* eventsOf(created.id)
            expect(events).toHaveLength(1)
            expect(events[0]).toEqual(
              expect.objectContaining({
                type: "workflow.created",
                workflow_id: created.id,
                organization_id: ORG_A,
                actor: KEY_ACTOR,
                request_id: "req-create",
                reason: null,
                created_at: row.created_at,
                changes: { title: { from: null, to: "Lead nurture" }, status: { from: null, to: "draft" } }
              })
            )
          })
        ))

      it.live("lists the description when there is one, and may create directly active (still one event)", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            const created = yield* api.create({ title: "Active one", description: " Text\nmore ", status: "active" })
            expect(created.status).toBe("active")
            expect((yield* rowOf(created.id)).description).toBe("Text\nmore")
            expect((yield* eventsOf(created.id)).map((e) => [e.type, e.changes])).toEqual([
              [
                "workflow.created",
                {
                  title: { from: null, to: "Active one" },
                  status: { from: null, to: "active" },
                  description: { from: null, to: "Text\nmore" }
                }
              ]
            ])
            const blank = yield* api.create({ title: "Blank", description: "   ", status: "draft" })
            expect(blank.description).toBeNull()
            expect(Object.keys((yield* eventsOf(blank.id))[0]!.changes).sort()).toEqual(["status", "title"])
          })
        ))

      it.live("rejects invalid bodies, naming every problem, and writes nothing", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            const cases: ReadonlyArray<readonly [unknown, ReadonlyArray<string | null>]> = [
              [{}, ["title"]],
              [{ description: "only" }, ["title"]],
              [{ title: null }, ["title"]],
              [{ title: "  " }, ["title"]],
              [{ title: "a", name: "b" }, ["name"]],
              [{ title: "a", status: "paused" }, ["status"]],
              [{ title: "a", status: "running" }, ["status"]],
              [{ title: "a", status: "completed" }, ["status"]],
              [{ title: "a", version: 1 }, ["version"]],
              [{ title: "a", id: "wfl_chosen" }, ["id"]],
              [{ title: "a", organization_id: ORG_B }, ["organization_id"]],
              [{ title: "a", nodes: [] }, ["nodes"]],
              [{ title: "a", colour: "red" }, ["colour"]],
              [{ title: "x".repeat(201), description: 5, extra: true }, ["title", "description", "extra"]],
              [[], [null]],
              ["title", [null]]
            ]
            for (const [body, fields] of cases) {
              const error = yield* failsWithoutWriting(api.create(body as never))
              expect(error._tag, JSON.stringify(body)).toBe("WorkflowValidationError")
              expect([...fieldsOf(error)].sort(), JSON.stringify(body)).toEqual([...fields].sort())
            }
            expect(yield* tableCounts).toEqual({ workflows: 0, events: 0, keys: 0 })
          })
        ))

      it.live("WorkflowStore.layer: a library caller is recorded as the system, with no request id", () =>
        withService(db)(
          Effect.gen(function*() {
            const workflows = yield* Workflows
            const created = yield* workflows.create({ title: "From a library" })
            const updated = yield* workflows.update(created.id, { name: "Renamed" })
            expect(updated.title).toBe("Renamed")
            const events = yield* eventsOf(created.id)
            expect(events.map((e) => [e.type, e.actor, e.request_id, e.organization_id])).toEqual([
              ["workflow.created", { type: "system" }, null, "org_library"],
              ["workflow.updated", { type: "system" }, null, "org_library"]
            ])
            expect((yield* workflows.events(created.id)).data.map((e) => e.type)).toEqual([
              "workflow.updated",
              "workflow.created"
            ])
          }).pipe(Effect.provide(WorkflowStore.layer({ organization_id: OrganizationId.make("org_library") })))
        ))
    })

    describe("Idempotency-Key", () => {
      it.live("same key and same body (any key order) return the first workflow; one row, one event", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            const first = yield* api.create({ title: "Once", description: "D", status: "active" }, {
              idempotency_key: "k-1"
            })
            const again = yield* api.create({ status: "active", description: "D", title: "Once" }, {
              idempotency_key: "k-1"
            })
            expect(again).toEqual(first)
            expect(yield* tableCounts).toEqual({ workflows: 1, events: 1, keys: 1 })
            // a retry replays the first response, even after the workflow moved on
            yield* api.update(first.id, { title: "Later" })
            const replay = yield* api.create({ title: "Once", status: "active", description: "D" }, {
              idempotency_key: "k-1"
            })
            expect(replay).toEqual(first)
            expect(yield* tableCounts).toEqual({ workflows: 1, events: 2, keys: 1 })
            // no key, or another key: a new workflow each time
            const other = yield* api.create({ title: "Once", description: "D", status: "active" }, {
              idempotency_key: "k-2"
            })
            const plain = yield* api.create({ title: "Once", description: "D", status: "active" })
            expect(new Set([first.id, other.id, plain.id]).size).toBe(3)
          })
        ))

      it.live("same key with a different body is IdempotencyKeyReused and writes nothing", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            yield* api.create({ title: "Original" }, { idempotency_key: "reused" })
            for (
              const body of [{ title: "Different" }, { title: "Original", description: "added" }, {
                title: " Original "
              }, { name: "Original" }]
            ) {
              const error = yield* failsWithoutWriting(api.create(body, { idempotency_key: "reused" }))
              expect(error, JSON.stringify(body)).toEqual(
                expect.objectContaining({ _tag: "IdempotencyKeyReused", key: "reused" })
              )
            }
            expect(yield* tableCounts).toEqual({ workflows: 1, events: 1, keys: 1 })
          })
        ))

      it.live("a failed first request is not remembered: the retry runs again", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            const invalid = yield* failsWithoutWriting(api.create({ title: "" }, { idempotency_key: "retry-me" }))
            expect(invalid._tag).toBe("WorkflowValidationError")
            expect(yield* tableCounts).toEqual({ workflows: 0, events: 0, keys: 0 })
            const created = yield* api.create({ title: "Fixed" }, { idempotency_key: "retry-me" })
            expect(created.title).toBe("Fixed")
            expect(yield* api.create({ title: "Fixed" }, { idempotency_key: "retry-me" })).toEqual(created)
            expect(yield* tableCounts).toEqual({ workflows: 1, events: 1, keys: 1 })
          })
        ))

      it.live("keys are per organization", () =>
        withService(db)(
          Effect.gen(function*() {
            const a = yield* apiFor(ORG_A)
            const b = yield* apiFor(ORG_B)
            const inA = yield* a.create({ title: "Shared key" }, { idempotency_key: "same" })
            const inB = yield* b.create({ title: "Shared key" }, { idempotency_key: "same" })
            expect(inB.id).not.toBe(inA.id)
            expect(inB.organization_id).toBe(ORG_B)
            const otherBody = yield* b.create({ title: "Other body" }, { idempotency_key: "also-in-a" })
            expect(otherBody.organization_id).toBe(ORG_B)
            yield* a.create({ title: "Whatever" }, { idempotency_key: "also-in-a" })
            expect(yield* b.create({ title: "Shared key" }, { idempotency_key: "same" })).toEqual(inB)
            expect(yield* tableCounts).toEqual({ workflows: 4, events: 4, keys: 4 })
            // B's replay never hands out A's workflow
            expect((yield* b.list()).data.map((w) => w.organization_id)).toEqual([ORG_B, ORG_B])
          })
        ))

      it.live("a key older than 24 hours is forgotten", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            const sql = yield* SqlClient.SqlClient
            const first = yield* api.create({ title: "Yesterday" }, { idempotency_key: "old" })
            const old = new Date(Date.now() - 25 * 3600_000).toISOString()
            yield* Effect.orDie(sql`UPDATE idempotency_keys SET created_at = ${old}`)
            const second = yield* api.create({ title: "Different now" }, { idempotency_key: "old" })
            expect(second.id).not.toBe(first.id)
            expect(yield* tableCounts).toEqual({ workflows: 2, events: 2, keys: 1 })
          })
        ))

      it.live("concurrent retries with one key create one workflow and all get it", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            // several rounds: the first one also warms the connection pool, which hides races
            for (let round = 0; round < 6; round++) {
              const results = yield* Effect.all(
                Array.from({ length: 8 }, () => api.create({ title: "Raced" }, { idempotency_key: `race-${round}` })),
                { concurrency: "unbounded" }
              )
              expect(new Set(results.map((w) => w.id)).size, `round ${round}`).toBe(1)
            }
            expect(yield* tableCounts).toEqual({ workflows: 6, events: 6, keys: 6 })
          })
        ))
    })
  })
}
