import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { databases } from "./databases.js"
import { expectProblem, expectValidation, insert, send, withServer, withSql, writesNothing } from "./http-support.js"
import { eventsOf, rowOf } from "./support.js"

/**
 * The public reference page of `PATCH /v1/workflows/{id}` (the source of docs/CONTRACT.md), its
 * examples sent verbatim over HTTP: the success cases and each documented error with its problem body.
 */

for (const db of databases) {
  withServer(db, "the reference page's examples over HTTP", (it) => {
    it.effect("PATCH {\"name\": \"30-Day Lead Nurture v2\"} → 200 with name and title set and ETag \"<version>\"", () =>
      Effect.gen(function*() {
        // The page's response: an active workflow with 5 nodes, 6 edges and 420 enrolled leads.
        const stored = yield* insert({
          id: "wfl_m3v7zb9rk2px",
          status: "active",
          node_count: 5,
          edge_count: 6,
          enrolled_leads: 420
        })
        const reply = yield* send("PATCH", "/v1/workflows/wfl_m3v7zb9rk2px", {
          raw: "{\"name\": \"30-Day Lead Nurture v2\"}",
          headers: { "content-type": "application/json" }
        })
        expect(reply.status, reply.text).toBe(200)
        expect(reply.headers.get("content-type")).toMatch(/^application\/json/)
        expect(reply.body).toMatchObject({
          id: "wfl_m3v7zb9rk2px",
          name: "30-Day Lead Nurture v2",
          title: "30-Day Lead Nurture v2",
          status: "active",
          node_count: 5,
          edge_count: 6,
          enrolled_leads: 420,
          version: stored.version + 1,
          created_at: stored.created_at
        })
        expect(reply.headers.get("etag")).toBe(`"${stored.version + 1}"`)
        expect(reply.body.updated_at).not.toBe(stored.updated_at)
        // What GET returns afterwards is what PATCH answered.
        const read = yield* send("GET", "/v1/workflows/wfl_m3v7zb9rk2px")
        expect(read.body).toEqual(reply.body)
        expect(read.headers.get("etag")).toBe(reply.headers.get("etag"))
        const row = yield* withSql(rowOf("wfl_m3v7zb9rk2px"))
        expect(row.title).toBe("30-Day Lead Nurture v2")
      }))

    it.effect("PATCH {\"title\": …, \"description\": …} (the curl template) → 200 with both changed", () =>
      Effect.gen(function*() {
        const stored = yield* insert({ status: "paused" })
        const reply = yield* send("PATCH", `/v1/workflows/${stored.id}`, {
          raw:
            "{\n  \"title\": \"Lead Nurture Sequence\",\n  \"description\": \"Contacts cold leads three times before marking as unresponsive.\"\n}\n",
          headers: { "content-type": "application/json" }
        })
        expect(reply.status, reply.text).toBe(200)
        expect(reply.body).toMatchObject({
          title: "Lead Nurture Sequence",
          name: "Lead Nurture Sequence",
          description: "Contacts cold leads three times before marking as unresponsive.",
          status: "paused",
          version: stored.version + 1
        })
        expect(reply.headers.get("etag")).toBe(`"${stored.version + 1}"`)
        const events = yield* withSql(eventsOf(stored.id))
        expect(events).toHaveLength(1)
        expect(events[0]!.type).toBe("workflow.updated")
        expect(events[0]!.changes).toEqual({
          title: { from: stored.title, to: "Lead Nurture Sequence" },
          description: {
            from: stored.description,
            to: "Contacts cold leads three times before marking as unresponsive."
          }
        })
      }))

    it.effect("404 Not Found when the workflow does not exist", () =>
      Effect.gen(function*() {
        const reply = yield* writesNothing(
          send("PATCH", "/v1/workflows/wfl_m3v7zb9rk2pz", { json: { name: "30-Day Lead Nurture v2" } })
        )
        const body = expectProblem(reply, 404, "not_found")
        expect(body.title).toBe("Not found")
      }))

    it.effect("400 Bad Request when the body contains no editable fields ({})", () =>
      Effect.gen(function*() {
        const stored = yield* insert()
        const reply = yield* writesNothing(send("PATCH", `/v1/workflows/${stored.id}`, { json: {} }))
        expect(expectValidation(reply)).toEqual([null])
        expect(reply.body.detail).toMatch(/title/)
      }))

    it.effect("400 Bad Request when the body holds only read-only echoes (no editable field)", () =>
      Effect.gen(function*() {
        const stored = yield* insert()
        const reply = yield* writesNothing(
          send("PATCH", `/v1/workflows/${stored.id}`, { json: { id: stored.id, status: "active" } })
        )
        expect(expectValidation(reply)).toEqual([null])
      }))

    it.effect("400 Bad Request when a value fails validation, naming the field", () =>
      Effect.gen(function*() {
        const stored = yield* insert()
        for (const body of [{ name: "" }, { title: "x".repeat(201) }, { description: 42 }, { title: null }]) {
          const reply = yield* writesNothing(send("PATCH", `/v1/workflows/${stored.id}`, { json: body }))
          expect(expectValidation(reply), JSON.stringify(body)).toEqual(Object.keys(body))
        }
      }))

    it.effect("409 Conflict when the body tries to change status, naming current, requested and allowed actions", () =>
      Effect.gen(function*() {
        const stored = yield* insert({ status: "active" })
        const reply = yield* writesNothing(
          send("PATCH", `/v1/workflows/${stored.id}`, { json: { name: "New", status: "paused" } })
        )
        const body = expectProblem(reply, 409, "status_conflict")
        expect(body).toMatchObject({
          current_status: "active",
          requested_status: "paused",
          allowed_actions: ["pause", "cancel"]
        })
        expect(body.detail).toMatch(/lifecycle/)
        // Echoing the current status back is not a change: accepted.
        const echo = yield* send("PATCH", `/v1/workflows/${stored.id}`, { json: { name: "New", status: "active" } })
        expect(echo.status, echo.text).toBe(200)
      }))

    it.effect("the response example's shape: every documented field of the record", () =>
      Effect.gen(function*() {
        const stored = yield* insert()
        const reply = yield* send("GET", `/v1/workflows/${stored.id}`)
        expect(Object.keys(reply.body).sort()).toEqual(
          [
            "id",
            "organization_id",
            "title",
            "name",
            "description",
            "status",
            "node_count",
            "edge_count",
            "enrolled_leads",
            "version",
            "created_at",
            "updated_at"
          ].sort()
        )
        expect(reply.body.organization_id).toBe("org_alpha")
      }))
  })
}
