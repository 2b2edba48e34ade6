import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { databases } from "./databases.js"
import {
  create,
  expectProblem,
  expectValidation,
  insert,
  send,
  Server,
  withServer,
  withSql,
  type WorkflowBody,
  writesNothing
} from "./http-support.js"
import { eventsOf, ORG_B, rowOf } from "./support.js"

/**
 * docs/CONTRACT.md §3, §4 and §11 over HTTP: the lifecycle routes (order 401, 400, 404, 412, 409, no-op or
 * change), the list with its filter and cursor, and the audit trail as clients read it.
 */

const lifecycle = (id: string, action: string, options: Parameters<typeof send>[2] = {}) =>
  send("POST", `/v1/workflows/${id}/${action}`, options)

for (const db of databases) {
  withServer(db, "lifecycle routes over HTTP", (it) => {
    it.effect("activate, pause, resume, cancel: 200 with the whole workflow and its ETag, each recorded with its reason", () =>
      Effect.gen(function*() {
        const created = yield* create({ title: "Lifecycle" })
        const steps = [
          ["activate", "active", "workflow.activated", "launch"],
          ["pause", "paused", "workflow.paused", null],
          ["resume", "active", "workflow.resumed", "back on"],
          ["cancel", "cancelled", "workflow.cancelled", "  campaign over  "]
        ] as const
        let version = created.version
        for (const [action, status, type, reason] of steps) {
          const reply = yield* lifecycle(created.id, action, reason === null ? {} : { json: { reason } })
          expect(reply.status, reply.text).toBe(200)
          version += 1
          expect(reply.body).toMatchObject({ id: created.id, status, version, title: "Lifecycle", name: "Lifecycle" })
          expect(reply.headers.get("etag")).toBe(`"${version}"`)
          const events = yield* withSql(eventsOf(created.id))
          expect(events.at(-1)).toMatchObject({
            type,
            reason: reason?.trim() ?? null,
            changes: { status: { to: status } }
          })
        }
        expect((yield* withSql(rowOf(created.id))).status).toBe("cancelled")
      }))

    it.effect("a lifecycle body may be absent, empty, {} or {reason: null}; merge-patch+json is accepted too", () =>
      Effect.gen(function*() {
        const a = yield* create()
        // Many clients send Content-Type: application/json on every POST, body or not.
        const empty = yield* lifecycle(a.id, "activate", { raw: "", headers: { "content-type": "application/json" } })
        expect(empty.status, empty.text).toBe(200)
        expect((yield* lifecycle(a.id, "pause", { json: {} })).status).toBe(200)
        expect((yield* lifecycle(a.id, "resume", { json: { reason: null } })).status).toBe(200)
        expect((yield* lifecycle(a.id, "pause", { raw: "", headers: { "content-type": "text/plain" } })).status).toBe(
          200
        )
        const merge = yield* lifecycle(a.id, "resume", {
          raw: "{\"reason\":\"merge\"}",
          headers: { "content-type": "application/merge-patch+json" }
        })
        expect(merge.status, merge.text).toBe(200)
        expect((yield* lifecycle(a.id, "cancel")).status).toBe(200)
        const events = yield* withSql(eventsOf(a.id))
        expect(events.map((e) => [e.type, e.reason])).toEqual([
          ["workflow.created", null],
          ["workflow.activated", null],
          ["workflow.paused", null],
          ["workflow.resumed", null],
          ["workflow.paused", null],
          ["workflow.resumed", "merge"],
          ["workflow.cancelled", null]
        ])
      }))

    it.effect("400 for a reason over 500 characters, a non-string reason, an unknown field, or a non-JSON body", () =>
      Effect.gen(function*() {
        const { id } = yield* create()
        for (
          const [body, fields] of [
            [{ reason: "r".repeat(501) }, ["reason"]],
            [{ reason: 5 }, ["reason"]],
            [{ reason: "ok", because: "x" }, ["because"]],
            [{ status: "active" }, ["status"]]
          ] as const
        ) {
          const reply = yield* writesNothing(lifecycle(id, "activate", { json: body }))
          expect(expectValidation(reply), JSON.stringify(body)).toEqual(fields)
        }
        expect((yield* lifecycle(id, "activate", { json: { reason: "r".repeat(500) } })).status).toBe(200)
        expect(expectValidation(yield* writesNothing(lifecycle(id, "pause", { json: [] })))).toEqual([null])
        expect(
          expectValidation(
            yield* writesNothing(lifecycle(id, "pause", { raw: "{", headers: { "content-type": "application/json" } }))
          )
        ).toEqual([null])
        expectProblem(
          yield* writesNothing(
            lifecycle(id, "pause", { raw: "{\"reason\":\"x\"}", headers: { "content-type": "text/plain" } })
          ),
          415,
          "unsupported_media_type"
        )
      }))

    it.effect("evaluation order: 401, then 400 body, then 404, then 412, then 409", () =>
      Effect.gen(function*() {
        const { id } = yield* create()
        const missing = "wfl_doesnotexist1"
        expectProblem(
          yield* writesNothing(lifecycle(missing, "pause", { key: null, json: { bogus: 1 } })),
          401,
          "unauthorized"
        )
        expect(expectValidation(yield* writesNothing(lifecycle(missing, "pause", { json: { bogus: 1 } })))).toEqual([
          "bogus"
        ])
        expectProblem(
          yield* writesNothing(lifecycle(missing, "pause", { headers: { "if-match": "\"9\"" } })),
          404,
          "not_found"
        )
        // draft → pause is a 409, but the stale If-Match is checked first.
        expectProblem(
          yield* writesNothing(lifecycle(id, "pause", { headers: { "if-match": "\"9\"" } })),
          412,
          "precondition_failed"
        )
        expectProblem(
          yield* writesNothing(lifecycle(id, "pause", { headers: { "if-match": "\"1\"" } })),
          409,
          "status_conflict"
        )
        const ok = yield* lifecycle(id, "activate", { headers: { "if-match": "\"1\"" } })
        expect(ok.status, ok.text).toBe(200)
        expect(ok.headers.get("etag")).toBe("\"2\"")
        expect((yield* lifecycle(id, "pause", { headers: { "if-match": "*" } })).status).toBe(200)
      }))

    it.effect("a no-op action is 200 without a write; with a stale If-Match it is a 412", () =>
      Effect.gen(function*() {
        const { id } = yield* create({ title: "No-op", status: "active" })
        const noop = yield* writesNothing(lifecycle(id, "activate"))
        expect(noop.status, noop.text).toBe(200)
        expect(noop.body).toMatchObject({ status: "active", version: 1 })
        expect(noop.headers.get("etag")).toBe("\"1\"")
        expect((yield* writesNothing(lifecycle(id, "resume", { headers: { "if-match": "\"1\"" } }))).status).toBe(200)
        const stale = yield* writesNothing(lifecycle(id, "activate", { headers: { "if-match": "\"0\"" } }))
        expect(expectProblem(stale, 412, "precondition_failed").current_etag).toBe("\"1\"")
        // Legacy running: activate and resume are no-ops and the stored value is returned unchanged.
        const running = yield* insert({ status: "running" })
        for (const action of ["activate", "resume"]) {
          const reply = yield* writesNothing(lifecycle(running.id, action))
          expect(reply.status).toBe(200)
          expect(reply.body.status).toBe("running")
        }
        const paused = yield* lifecycle(running.id, "pause")
        expect(paused.body).toMatchObject({ status: "paused", version: running.version + 1 })
      }))

    it.effect("409 names the current status, the action's target and the allowed actions", () =>
      Effect.gen(function*() {
        const draft = yield* create()
        expect(expectProblem(yield* writesNothing(lifecycle(draft.id, "resume")), 409, "status_conflict"))
          .toMatchObject({
            current_status: "draft",
            requested_status: "active",
            allowed_actions: ["activate", "cancel"]
          })
        const completed = yield* insert({ status: "completed" })
        expect(expectProblem(yield* writesNothing(lifecycle(completed.id, "cancel")), 409, "status_conflict"))
          .toMatchObject({
            current_status: "completed",
            requested_status: "cancelled",
            allowed_actions: []
          })
        const cancelled = yield* insert({ status: "cancelled" })
        expect((yield* writesNothing(lifecycle(cancelled.id, "cancel"))).status).toBe(200)
        expect(expectProblem(yield* writesNothing(lifecycle(cancelled.id, "activate")), 409, "status_conflict"))
          .toMatchObject({
            current_status: "cancelled",
            requested_status: "active",
            allowed_actions: []
          })
        const paused = yield* insert({ status: "paused" })
        expect(expectProblem(yield* writesNothing(lifecycle(paused.id, "activate")), 409, "status_conflict"))
          .toMatchObject({
            current_status: "paused",
            allowed_actions: ["resume", "cancel"]
          })
      }))

    it.effect("title and description stay editable in completed and cancelled workflows", () =>
      Effect.gen(function*() {
        for (const status of ["completed", "cancelled"] as const) {
          const row = yield* insert({ status })
          const reply = yield* send("PATCH", `/v1/workflows/${row.id}`, {
            json: { title: `Archived ${status}`, description: null }
          })
          expect(reply.status, reply.text).toBe(200)
          expect(reply.body).toMatchObject({ status, title: `Archived ${status}`, description: null })
        }
      }))
  })

  withServer(db, "lists and events over HTTP", (it) => {
    /** Every page of a list, following `starting_after`. */
    const allPages = (path: string, limit: number) =>
      Effect.gen(function*() {
        const pages: Array<{ data: ReadonlyArray<{ id: string }>; has_more: boolean }> = []
        let cursor: string | undefined
        for (;;) {
          const separator = path.includes("?") ? "&" : "?"
          const reply = yield* send(
            "GET",
            `${path}${separator}limit=${limit}${cursor === undefined ? "" : `&starting_after=${cursor}`}`
          )
          expect(reply.status, reply.text).toBe(200)
          pages.push(reply.body)
          if (!reply.body.has_more) return pages
          cursor = reply.body.data.at(-1).id
          expect(pages.length).toBeLessThan(50)
        }
      })

    it.effect("the list: newest first (created_at, then id, descending), status filter with running as active, only the caller's organization", () =>
      Effect.gen(function*() {
        const made: Array<WorkflowBody> = []
        for (let i = 0; i < 5; i++) made.push(yield* create({ title: `List ${i}` }))
        yield* send("POST", `/v1/workflows/${made[1]!.id}/activate`)
        yield* send("POST", `/v1/workflows/${made[3]!.id}/cancel`)
        const running = yield* insert({ status: "running", created_at: "2019-05-05T05:05:05.555Z" })
        const older = yield* insert({ status: "draft", created_at: "2019-05-05T05:05:05.555Z" })
        yield* insert({ organization_id: ORG_B, status: "active" })

        const all = yield* send("GET", "/v1/workflows")
        expect(all.status).toBe(200)
        expect(Object.keys(all.body).sort()).toEqual(["data", "has_more"])
        expect(all.body.has_more).toBe(false)
        const ids: Array<string> = all.body.data.map((w: WorkflowBody) => w.id)
        expect(ids).toHaveLength(7)
        expect(all.body.data.every((w: WorkflowBody) => w.organization_id === "org_alpha")).toBe(true)
        const expected = [...all.body.data]
          .sort((
            a: WorkflowBody,
            b: WorkflowBody
          ) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1))
          .map((w: WorkflowBody) => w.id)
        expect(ids).toEqual(expected)
        // Same instant: the larger id first.
        expect(ids.slice(-2)).toEqual([running.id, older.id].sort().reverse())

        const active = yield* send("GET", "/v1/workflows?status=active")
        expect(active.body.data.map((w: WorkflowBody) => w.id).sort()).toEqual([made[1]!.id, running.id].sort())
        expect(active.body.data.map((w: WorkflowBody) => w.status).sort()).toEqual(["active", "running"])
        const cancelled = yield* send("GET", "/v1/workflows?status=cancelled")
        expect(cancelled.body.data.map((w: WorkflowBody) => w.id)).toEqual([made[3]!.id])
        // running is treated exactly like active, as a filter too.
        const runningFilter = yield* send("GET", "/v1/workflows?status=running")
        expect(runningFilter.body).toEqual(active.body)
        const none = yield* send("GET", "/v1/workflows?status=completed")
        expect(none.body).toEqual({ data: [], has_more: false })
      }))

    it.effect("limit and starting_after page through the list without gaps or repeats; has_more tells when to stop", () =>
      Effect.gen(function*() {
        const full = yield* send("GET", "/v1/workflows?limit=100")
        const ids: Array<string> = full.body.data.map((w: WorkflowBody) => w.id)
        expect(ids.length).toBeGreaterThanOrEqual(7)
        for (const limit of [1, 2, 3, ids.length]) {
          const pages = yield* allPages("/v1/workflows", limit)
          expect(pages.flatMap((p) => p.data.map((w) => w.id)), `limit=${limit}`).toEqual(ids)
          for (const page of pages.slice(0, -1)) {
            expect(page.data).toHaveLength(limit)
            expect(page.has_more).toBe(true)
          }
          expect(pages.at(-1)!.has_more).toBe(false)
        }
        const two = yield* send("GET", "/v1/workflows?limit=2")
        expect(two.body.data).toHaveLength(2)
        expect(two.body.has_more).toBe(true)
        // The default page is 20; the filter and the cursor combine.
        const active = yield* allPages("/v1/workflows?status=active", 1)
        expect(active.flatMap((p) => p.data)).toHaveLength(2)
      }))

    it.effect("an unknown cursor is a 400 naming starting_after, for the list and the events", () =>
      Effect.gen(function*() {
        const { id } = yield* create()
        for (
          const path of [
            "/v1/workflows?starting_after=wfl_doesnotexist1",
            `/v1/workflows/${id}/events?starting_after=evt_doesnotexist1`
          ]
        ) {
          const reply = yield* send("GET", path)
          expect(expectValidation(reply), path).toEqual(["starting_after"])
        }
        // A workflow id is not an event cursor.
        expect(expectValidation(yield* send("GET", `/v1/workflows/${id}/events?starting_after=${id}`))).toEqual([
          "starting_after"
        ])
      }))

    it.effect("events: newest first, paginated, actor is the API key's id, never the key itself", () =>
      Effect.gen(function*() {
        const server = yield* Server
        const { id } = yield* create({ title: "Audited", description: "first" })
        yield* send("PATCH", `/v1/workflows/${id}`, { json: { description: "second" } })
        yield* send("POST", `/v1/workflows/${id}/activate`, { json: { reason: "go" } })
        yield* send("PATCH", `/v1/workflows/${id}`, { json: { title: "Audited" } }) // no-op: no event
        yield* send("POST", `/v1/workflows/${id}/pause`)
        const reply = yield* send("GET", `/v1/workflows/${id}/events`)
        expect(reply.status, reply.text).toBe(200)
        expect(reply.body.has_more).toBe(false)
        const events = reply.body.data as ReadonlyArray<Record<string, any>>
        expect(events.map((e) => e.type)).toEqual([
          "workflow.paused",
          "workflow.activated",
          "workflow.updated",
          "workflow.created"
        ])
        for (const event of events) {
          expect(event).toMatchObject({
            workflow_id: id,
            organization_id: "org_alpha",
            actor: { type: "api_key", id: server.keyId }
          })
          expect(Object.keys(event).sort()).toEqual([
            "actor",
            "changes",
            "created_at",
            "id",
            "organization_id",
            "reason",
            "request_id",
            "type",
            "workflow_id"
          ])
        }
        expect(events[1]!.reason).toBe("go")
        expect(events[0]!.reason).toBeNull()
        expect(events[3]!.changes).toEqual({
          title: { from: null, to: "Audited" },
          status: { from: null, to: "draft" },
          description: { from: null, to: "first" }
        })
        expect(events[2]!.changes).toEqual({ description: { from: "first", to: "second" } })
        expect(reply.text).not.toContain(server.key)
        expect(reply.text).not.toContain(server.key.slice(4))
        // Paginated like the list.
        const pages = yield* allPages(`/v1/workflows/${id}/events`, 1)
        expect(pages.flatMap((p) => p.data.map((e) => e.id))).toEqual(events.map((e) => e.id))
        const limited = yield* send("GET", `/v1/workflows/${id}/events?limit=3`)
        expect(limited.body.data).toHaveLength(3)
        expect(limited.body.has_more).toBe(true)
        // Stored events never hold the key either.
        const stored = yield* Effect.orDie(server.sql<Record<string, unknown>>`SELECT * FROM workflow_events`)
        expect(JSON.stringify(stored)).not.toContain(server.key)
      }))

    it.effect("events of a missing workflow are a 404", () =>
      Effect.gen(function*() {
        expectProblem(yield* send("GET", "/v1/workflows/wfl_doesnotexist1/events"), 404, "not_found")
        expectProblem(yield* send("GET", "/v1/workflows/not-an-id/events"), 404, "not_found")
      }))
  })
}
