import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { WorkflowJson } from "@workflows/domain"
import { Effect, Schema } from "effect"
import { databases, withService } from "./databases.js"
import {
  apiFor,
  eventsOf,
  expectIsoMillis,
  failsWithoutWriting,
  insertWorkflow,
  KEY_ACTOR,
  OLD_TIME,
  ORG_A,
  ORG_B,
  rowOf,
  succeedsWithoutWriting
} from "./support.js"

/**
 * docs/CONTRACT.md §2: the PATCH evaluation order as the service sees it (steps 3–8), first failure wins,
 * and a failed request changes nothing — checked against the whole database each time.
 */

/** An active workflow at version 3 with old timestamps, plus a workflow of another organization. */
const fixture = Effect.gen(function*() {
  const stored = yield* insertWorkflow({
    title: "Original title",
    description: "Original description",
    status: "active",
    version: 3
  })
  const foreign = yield* insertWorkflow({ organization_id: ORG_B, title: "Foreign", status: "active" })
  return { stored, foreign, api: yield* apiFor(ORG_A) }
})

const fieldsOf = (error: unknown) =>
  (error as { readonly errors: ReadonlyArray<{ readonly field: string | null }> }).errors.map((e) => e.field)

for (const db of databases) {
  describe.concurrent(db.name, () => {
    describe("step 3: 400 body validation", () => {
      it.live("rejects bad bodies, naming every problem, and writes nothing", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            const cases: ReadonlyArray<readonly [Record<string, unknown>, ReadonlyArray<string | null>]> = [
              [{}, [null]],
              [{ titel: "typo" }, ["titel"]],
              [{ nodes: [] }, ["nodes"]],
              [{ edges: [] }, ["edges"]],
              [{ leads: [] }, ["leads"]],
              [{ title: null }, ["title"]],
              [{ title: "" }, ["title"]],
              [{ title: "   " }, ["title"]],
              [{ title: "x".repeat(201) }, ["title"]],
              [{ title: "bad\u0007bell" }, ["title"]],
              [{ title: 42 }, ["title"]],
              [{ name: 42 }, ["name"]],
              [{ description: "d".repeat(2001) }, ["description"]],
              [{ description: 7 }, ["description"]],
              [{ status: "running" }, ["status"]],
              [{ status: "bogus" }, ["status"]],
              [{ version: 0 }, ["version"]],
              [{ version: "3" }, ["version"]],
              [{ node_count: -1 }, ["node_count"]],
              [{ created_at: "yesterday" }, ["created_at"]],
              [{ id: 5 }, ["id"]],
              // every problem at once, in one error
              [{ title: null, bogus: 1, version: 0, status: "running" }, ["title", "bogus", "version", "status"]]
            ]
            for (const [body, fields] of cases) {
              const error = yield* failsWithoutWriting(api.update(stored.id, body))
              expect(error._tag, JSON.stringify(body)).toBe("WorkflowValidationError")
              expect([...fieldsOf(error)].sort(), JSON.stringify(body)).toEqual([...fields].sort())
            }
            const unknown = yield* Effect.flip(api.update(stored.id, { nodes: [] }))
            expect(unknown._tag === "WorkflowValidationError" && unknown.errors[0]!.message).toMatch(/workflow-nodes/)
            expect(yield* rowOf(stored.id)).toEqual(stored)
            expect(yield* eventsOf(stored.id)).toHaveLength(0)
          })
        ))

      it.live("body validation comes before 404, 412 and 409", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, foreign, stored } = yield* fixture
            for (const id of ["wfl_doesnotexist", foreign.id, "not an id"]) {
              const error = yield* failsWithoutWriting(api.update(id, { titel: "x" }))
              expect(error._tag, id).toBe("WorkflowValidationError")
            }
            const stale = yield* failsWithoutWriting(api.update(stored.id, { titel: "x" }, { if_match: "\"1\"" }))
            expect(stale._tag).toBe("WorkflowValidationError")
            const conflict = yield* failsWithoutWriting(api.update(stored.id, { status: "paused", bogus: true }))
            expect(conflict._tag).toBe("WorkflowValidationError")
            expect(fieldsOf(conflict)).toEqual(["bogus"])
          })
        ))
    })

    describe("step 4: 404", () => {
      it.live("missing, foreign and malformed ids are the same WorkflowNotFound", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, foreign, stored } = yield* fixture
            const ids = [
              "wfl_doesnotexist",
              "wf_legacymissing",
              foreign.id,
              "not-an-id",
              "",
              "wfl_",
              `wfl_${"a".repeat(65)}`,
              "wfl_x' OR '1'='1",
              stored.id.toUpperCase(),
              ` ${stored.id}`
            ]
            for (const id of ids) {
              const error = yield* failsWithoutWriting(api.update(id, { title: "Hijacked" }))
              expect(error, JSON.stringify(id)).toEqual(expect.objectContaining({ _tag: "WorkflowNotFound", id }))
              expect(Object.keys(error).sort(), JSON.stringify(id)).toEqual(["_tag", "id"])
            }
            expect(yield* rowOf(foreign.id)).toEqual(foreign)
          })
        ))

      it.live("404 comes before 412 and 409", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, foreign } = yield* fixture
            const stale = yield* failsWithoutWriting(api.update(foreign.id, { title: "x" }, { if_match: "\"999\"" }))
            expect(stale._tag).toBe("WorkflowNotFound")
            const conflict = yield* failsWithoutWriting(api.update("wfl_missing", { status: "paused" }))
            expect(conflict._tag).toBe("WorkflowNotFound")
          })
        ))
    })

    describe("step 5: 412 If-Match", () => {
      it.live("a stale or weak tag fails; *, the current tag and a list holding it match", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            for (const ifMatch of ["\"2\"", "\"4\"", "W/\"3\"", "3", "\"1\", \"2\"", "\"03\"", ""]) {
              const error = yield* failsWithoutWriting(
                api.update(stored.id, { title: "Changed" }, { if_match: ifMatch })
              )
              expect(error, ifMatch).toEqual(
                expect.objectContaining({
                  _tag: "WorkflowPreconditionFailed",
                  if_match: ifMatch,
                  current_etag: "\"3\""
                })
              )
            }
            const star = yield* api.update(stored.id, { title: "Star" }, { if_match: "*" })
            expect(star.version).toBe(4)
            const list = yield* api.update(stored.id, { title: "Listed" }, { if_match: "\"1\", \"4\",\"9\"" })
            expect(list.version).toBe(5)
            const exact = yield* api.update(stored.id, { title: "Exact" }, { if_match: "\"5\"" })
            expect(exact.version).toBe(6)
            expect((yield* rowOf(stored.id)).title).toBe("Exact")
            expect(yield* eventsOf(stored.id)).toHaveLength(3)
          })
        ))

      it.live("412 comes before 409, before a read-only 400 and before a no-op", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            for (
              const body of [{ status: "paused" }, { version: 99 }, { title: stored.title }, { title: "x", name: "y" }]
            ) {
              const error = yield* failsWithoutWriting(api.update(stored.id, body, { if_match: "\"2\"" }))
              expect(error._tag, JSON.stringify(body)).toBe("WorkflowPreconditionFailed")
            }
          })
        ))
    })

    describe("step 6: 409 status", () => {
      it.live("a different status is a conflict naming current, requested and allowed actions", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            const paused = yield* insertWorkflow({ status: "paused" })
            const draft = yield* insertWorkflow({ status: "draft" })
            const completed = yield* insertWorkflow({ status: "completed" })
            const cases = [
              [stored.id, "paused", "active", ["pause", "cancel"]],
              [stored.id, "draft", "active", ["pause", "cancel"]],
              [stored.id, "completed", "active", ["pause", "cancel"]],
              [paused.id, "active", "paused", ["resume", "cancel"]],
              [draft.id, "cancelled", "draft", ["activate", "cancel"]],
              [completed.id, "active", "completed", []]
            ] as const
            for (const [id, requested, current, allowed] of cases) {
              const error = yield* failsWithoutWriting(api.update(id, { status: requested, title: "Would change" }))
              expect(error, `${current} -> ${requested}`).toEqual(
                expect.objectContaining({
                  _tag: "WorkflowStatusConflict",
                  current_status: current,
                  requested_status: requested,
                  allowed_actions: allowed
                })
              )
            }
          })
        ))

      it.live("409 comes before a read-only 400 and a title/name 400", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            const error = yield* failsWithoutWriting(
              api.update(stored.id, { status: "paused", version: 99, title: "a", name: "b" })
            )
            expect(error._tag).toBe("WorkflowStatusConflict")
          })
        ))
    })

    describe("step 7: 400 against the stored record", () => {
      it.live("read-only values that differ are each named", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            const cases: ReadonlyArray<readonly [Record<string, unknown>, ReadonlyArray<string | null>]> = [
              [{ title: "New", version: 2 }, ["version"]],
              [{ title: "New", id: "wfl_other" }, ["id"]],
              [{ title: "New", organization_id: ORG_B }, ["organization_id"]],
              [{ title: "New", node_count: 5 }, ["node_count"]],
              [{ title: "New", edge_count: 0 }, ["edge_count"]],
              [{ title: "New", enrolled_leads: 18 }, ["enrolled_leads"]],
              [{ title: "New", created_at: "2020-01-02T03:04:05.679Z" }, ["created_at"]],
              [{ title: "New", updated_at: "2021-01-02T03:04:05.678Z" }, ["updated_at"]],
              [{ title: "New", version: 9, node_count: 0, id: "wfl_nope" }, ["version", "node_count", "id"]]
            ]
            for (const [body, fields] of cases) {
              const error = yield* failsWithoutWriting(api.update(stored.id, body))
              expect(error._tag, JSON.stringify(body)).toBe("WorkflowValidationError")
              expect([...fieldsOf(error)].sort(), JSON.stringify(body)).toEqual([...fields].sort())
            }
          })
        ))

      it.live("title and name that differ from each other and from the stored title are a 400", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            const error = yield* failsWithoutWriting(api.update(stored.id, { title: "One", name: "Two" }))
            expect(error._tag).toBe("WorkflowValidationError")
            expect(fieldsOf(error)).toContain("name")
          })
        ))

      it.live("a body with no editable field is a 400, even when everything equals the stored values", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            for (
              const body of [
                { status: "active" },
                { version: 3 },
                { id: stored.id, organization_id: ORG_A, version: 3, status: "active", node_count: 4 }
              ]
            ) {
              const error = yield* failsWithoutWriting(api.update(stored.id, body))
              expect(error._tag, JSON.stringify(body)).toBe("WorkflowValidationError")
              expect(fieldsOf(error), JSON.stringify(body)).toEqual([null])
            }
          })
        ))
    })

    describe("step 8: 200", () => {
      it.live("a change bumps the version, moves updated_at and writes one workflow.updated event", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            const updated = yield* api.update(stored.id, { title: "  New title  ", description: "New\ndescription\t" })
            const row = yield* rowOf(stored.id)
            expect(row).toEqual({
              ...stored,
              title: "New title",
              description: "New\ndescription",
              version: 4,
              updated_at: row.updated_at
            })
            expect(row.updated_at > OLD_TIME).toBe(true)
            expectIsoMillis(row.updated_at)
            expect(updated.version).toBe(4)
            expect(updated.title).toBe("New title")
            expect(updated.etag).toBe("\"4\"")
            const events = yield* eventsOf(stored.id)
            expect(events).toHaveLength(1)
            expect(events[0]).toEqual(
              expect.objectContaining({
                type: "workflow.updated",
                workflow_id: stored.id,
                organization_id: ORG_A,
                actor: KEY_ACTOR,
                request_id: "req-test-1",
                reason: null,
                created_at: row.updated_at,
                changes: {
                  title: { from: "Original title", to: "New title" },
                  description: { from: "Original description", to: "New\ndescription" }
                }
              })
            )
            expect(events[0]!.id).toMatch(/^evt_[a-z0-9]+$/)
          })
        ))

      it.live("only fields that really change are listed in the event", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            yield* api.update(stored.id, { title: "Original title", description: "Another" })
            const events = yield* eventsOf(stored.id)
            expect(events.map((e) => e.changes)).toEqual([{
              description: { from: "Original description", to: "Another" }
            }])
          })
        ))

      it.live("name is an alias of title; an echoed title or name is ignored", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            expect((yield* api.update(stored.id, { name: "By name" })).title).toBe("By name")
            expect((yield* api.update(stored.id, { title: "By name", name: "Edited via name" })).title).toBe(
              "Edited via name"
            )
            expect((yield* api.update(stored.id, { title: "Edited via title", name: "Edited via name" })).title).toBe(
              "Edited via title"
            )
            expect((yield* api.update(stored.id, { title: "Same", name: "Same" })).title).toBe("Same")
            const row = yield* rowOf(stored.id)
            expect(row.title).toBe("Same")
            expect(row.version).toBe(7)
            const events = yield* eventsOf(stored.id)
            expect(events.map((e) => e.changes.title)).toEqual([
              { from: "Original title", to: "By name" },
              { from: "By name", to: "Edited via name" },
              { from: "Edited via name", to: "Edited via title" },
              { from: "Edited via title", to: "Same" }
            ])
          })
        ))

      it.live("null or a blank description clears it to null", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            const other = yield* insertWorkflow({ description: "Something" })
            expect((yield* api.update(stored.id, { description: null })).description).toBeNull()
            expect((yield* api.update(other.id, { description: " \n\t " })).description).toBeNull()
            expect((yield* rowOf(stored.id)).description).toBeNull()
            expect((yield* rowOf(other.id)).description).toBeNull()
            expect((yield* eventsOf(other.id))[0]!.changes).toEqual({ description: { from: "Something", to: null } })
          })
        ))

      it.live("GET → edit → PATCH with every read-only field echoed (timestamps as the same instant) works", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            const read = Schema.encodeSync(WorkflowJson)(yield* api.get(stored.id))
            const updated = yield* api.update(stored.id, { ...read, title: "Edited after GET" })
            expect(updated.title).toBe("Edited after GET")
            expect(updated.version).toBe(4)
            // the same instants written with an offset and more digits are still equal
            const again = yield* api.update(stored.id, {
              title: "Edited again",
              created_at: "2020-01-02T05:04:05.678000+02:00",
              version: 4,
              status: "active"
            })
            expect(again.version).toBe(5)
          })
        ))

      it.live("status equal to the current one (running ≡ active) is ignored", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            const updated = yield* api.update(stored.id, { status: "active", title: "With status echo" })
            expect(updated.status).toBe("active")
            expect(updated.title).toBe("With status echo")
          })
        ))

      it.live("title and description are editable in completed and cancelled workflows", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api } = yield* fixture
            for (const status of ["completed", "cancelled", "draft", "paused"] as const) {
              const row = yield* insertWorkflow({ status })
              const updated = yield* api.update(row.id, { title: `Edited ${status}`, description: null, status })
              expect(updated.status).toBe(status)
              expect(yield* rowOf(row.id)).toEqual({
                ...row,
                title: `Edited ${status}`,
                description: null,
                version: row.version + 1,
                updated_at: updated.updated_at.toJSON()
              })
            }
          })
        ))
    })

    describe("no-ops", () => {
      it.live("values equal to the stored ones write nothing: same version, same updated_at, no event", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            const cleared = yield* insertWorkflow({ description: null })
            const cases: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
              [stored.id, { title: "Original title" }],
              [stored.id, { title: "  Original title\t" }],
              [stored.id, { name: "Original title" }],
              [stored.id, { description: "Original description" }],
              [stored.id, { description: " Original description \n" }],
              [stored.id, {
                title: "Original title",
                name: "Original title",
                status: "active",
                version: 3,
                node_count: 4
              }],
              [cleared.id, { description: null }],
              [cleared.id, { description: "   " }]
            ]
            for (const [id, body] of cases) {
              const before = yield* rowOf(id)
              const result = yield* succeedsWithoutWriting(api.update(id, body, { if_match: `"${before.version}"` }))
              expect(result.version, JSON.stringify(body)).toBe(before.version)
              expect(result.updated_at.toJSON(), JSON.stringify(body)).toBe(before.updated_at)
            }
            expect(yield* eventsOf(stored.id)).toHaveLength(0)
            expect(yield* eventsOf(cleared.id)).toHaveLength(0)
          })
        ))

      it.live("a change followed by the same change again writes once", () =>
        withService(db)(
          Effect.gen(function*() {
            const { api, stored } = yield* fixture
            const first = yield* api.update(stored.id, { title: "Once" })
            const second = yield* succeedsWithoutWriting(api.update(stored.id, { title: "Once" }))
            expect(second.version).toBe(first.version)
            expect(second.updated_at.toJSON()).toBe(first.updated_at.toJSON())
            expect(yield* eventsOf(stored.id)).toHaveLength(1)
          })
        ))
    })

    it.live("a write never touches other workflows", () =>
      withService(db)(
        Effect.gen(function*() {
          const { api, foreign, stored } = yield* fixture
          const sibling = yield* insertWorkflow({ title: "Sibling" })
          yield* api.update(stored.id, { title: "Only me" })
          expect(yield* rowOf(sibling.id)).toEqual(sibling)
          expect(yield* rowOf(foreign.id)).toEqual(foreign)
          const sql = yield* SqlClient.SqlClient
          const other = yield* Effect.orDie(sql`SELECT id FROM workflow_events WHERE workflow_id <> ${stored.id}`)
          expect(other).toHaveLength(0)
        })
      ))
  })
}
