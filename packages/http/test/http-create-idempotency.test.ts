import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { databases } from "./databases.js"
import { expectProblem, expectValidation, send, Server, withServer, withSql, writesNothing } from "./http-support.js"
import { countOf, eventsOf, expectIsoMillis, rowOf } from "./support.js"

/**
 * docs/CONTRACT.md §4 and §11 over HTTP: `POST /v1/workflows` answers 201 with `Location` and `ETag`, and an
 * `Idempotency-Key` replays the first successful response (one row), refuses a different body
 * (422) and is itself validated (400 naming `Idempotency-Key`).
 */

const post = (json: unknown, headers: Record<string, string> = {}) => send("POST", "/v1/workflows", { json, headers })

/** How many workflows of org_alpha have this title. */
const rowsTitled = (title: string) =>
  Effect.flatMap(Server, (server) =>
    Effect.map(
      Effect.orDie(
        server.sql<
          { n: number | string }
        >`SELECT COUNT(*) AS n FROM workflows WHERE title = ${title} AND organization_id = ${"org_alpha"}`
      ),
      (rows) => Number(rows[0]!.n)
    ))

for (const db of databases) {
  withServer(db, "POST /v1/workflows and Idempotency-Key over HTTP", (it) => {
    it.effect("201 with the whole draft workflow, Location /v1/workflows/<id>, ETag \"1\" and one created event", () =>
      Effect.gen(function*() {
        const reply = yield* post({ name: "  Lead Nurture Sequence ", description: "Contacts cold leads." })
        expect(reply.status, reply.text).toBe(201)
        const body = reply.body
        expect(body.id).toMatch(/^wfl_[0-9a-z]{12}$/)
        expect(reply.headers.get("location")).toBe(`/v1/workflows/${body.id}`)
        expect(reply.headers.get("etag")).toBe("\"1\"")
        expect(body).toMatchObject({
          organization_id: "org_alpha",
          title: "Lead Nurture Sequence",
          name: "Lead Nurture Sequence",
          description: "Contacts cold leads.",
          status: "draft",
          node_count: 0,
          edge_count: 0,
          enrolled_leads: 0,
          version: 1
        })
        expectIsoMillis(body.created_at)
        expect(body.updated_at).toBe(body.created_at)
        const location = yield* send("GET", reply.headers.get("location")!)
        expect(location.body).toEqual(body)
        const events = yield* withSql(eventsOf(body.id))
        expect(events.map((e) => e.type)).toEqual(["workflow.created"])
        expect(events[0]!.changes).toEqual({
          title: { from: null, to: "Lead Nurture Sequence" },
          status: { from: null, to: "draft" },
          description: { from: null, to: "Contacts cold leads." }
        })
        const active = yield* post({ title: "Straight to active", status: "active" })
        expect(active.status).toBe(201)
        expect(active.body.status).toBe("active")
        expect((yield* withSql(eventsOf(active.body.id))).map((e) => e.type)).toEqual(["workflow.created"])
      }))

    it.effect("a bad create body is a 400 naming every problem and creates nothing; step-2 rules apply as on PATCH", () =>
      Effect.gen(function*() {
        for (
          const [json, fields] of [
            [{}, ["title"]],
            [{ title: "" }, ["title"]],
            [{ title: "ok", status: "paused" }, ["status"]],
            [{ title: "ok", version: 1 }, ["version"]],
            [{ title: "ok", id: "wfl_mine" }, ["id"]],
            [{ title: "ok", nodes: [] }, ["nodes"]],
            [{ titel: "typo" }, ["titel", "title"]]
          ] as const
        ) {
          const reply = yield* writesNothing(post(json))
          expect([...expectValidation(reply)].sort(), JSON.stringify(json)).toEqual([...fields].sort())
        }
        expectProblem(
          yield* writesNothing(
            send("POST", "/v1/workflows", { raw: "{\"title\":\"x\"}", headers: { "content-type": "text/plain" } })
          ),
          415,
          "unsupported_media_type"
        )
        expectProblem(
          yield* writesNothing(send("POST", "/v1/workflows", { raw: "{\"title\":\"x\"}" })),
          415,
          "unsupported_media_type"
        )
        expectProblem(
          yield* writesNothing(
            send("POST", "/v1/workflows", {
              raw: JSON.stringify({ title: "x".repeat(70_000) }),
              headers: { "content-type": "application/json" }
            })
          ),
          413,
          "payload_too_large"
        )
        expect(
          expectValidation(
            yield* writesNothing(
              send("POST", "/v1/workflows", { raw: "[]", headers: { "content-type": "application/json" } })
            )
          )
        ).toEqual([null])
        expect(
          expectValidation(
            yield* writesNothing(
              send("POST", "/v1/workflows", { raw: "", headers: { "content-type": "application/json" } })
            )
          )
        ).toEqual([null])
        expectProblem(
          yield* writesNothing(send("POST", "/v1/workflows", { json: { title: "x" }, key: null })),
          401,
          "unauthorized"
        )
        const merge = yield* send("POST", "/v1/workflows", {
          raw: "{\"title\":\"merge\"}",
          headers: { "content-type": "application/merge-patch+json" }
        })
        expect(merge.status, merge.text).toBe(201)
      }))

    it.effect("the same Idempotency-Key and body return the first response, with one row and one event", () =>
      Effect.gen(function*() {
        const headers = { "idempotency-key": "create-once-1" }
        const first = yield* post({ title: "Idempotent", description: "d" }, headers)
        expect(first.status, first.text).toBe(201)
        const countBefore = yield* withSql(countOf("workflow_events"))
        const again = yield* writesNothing(post({ title: "Idempotent", description: "d" }, headers))
        // The same body as parsed JSON: key order does not matter.
        const reordered = yield* writesNothing(
          send("POST", "/v1/workflows", {
            raw: "{ \"description\": \"d\", \"title\": \"Idempotent\" }",
            headers: { ...headers, "content-type": "application/json" }
          })
        )
        for (const replay of [again, reordered]) {
          expect(replay.status).toBe(201)
          expect(replay.text).toBe(first.text)
          expect(replay.headers.get("location")).toBe(first.headers.get("location"))
          expect(replay.headers.get("etag")).toBe(first.headers.get("etag"))
        }
        expect(yield* rowsTitled("Idempotent")).toBe(1)
        expect(yield* withSql(countOf("workflow_events"))).toBe(countBefore)
        // Replayed even after the workflow changed: the first response, not the current state.
        yield* send("PATCH", `/v1/workflows/${first.body.id}`, { json: { title: "Idempotent (renamed)" } })
        const later = yield* post({ title: "Idempotent", description: "d" }, headers)
        expect(later.status).toBe(201)
        expect(later.body).toEqual(first.body)
        expect((yield* withSql(rowOf(first.body.id))).title).toBe("Idempotent (renamed)")
        // Without a key, the same body makes a second workflow.
        expect((yield* post({ title: "Idempotent", description: "d" })).status).toBe(201)
        expect(yield* rowsTitled("Idempotent")).toBe(1) // the first one is renamed by now
      }))

    it.effect("the same Idempotency-Key with a different body is a 422 idempotency_key_reused that writes nothing", () =>
      Effect.gen(function*() {
        const headers = { "idempotency-key": "create-once-2" }
        expect((yield* post({ title: "First body" }, headers)).status).toBe(201)
        for (
          const body of [{ title: "Second body" }, { title: "First body", description: "more" }, {
            title: "First body",
            status: "draft"
          }]
        ) {
          const reply = yield* writesNothing(post(body, headers))
          expectProblem(reply, 422, "idempotency_key_reused")
        }
        expect(yield* rowsTitled("Second body")).toBe(0)
      }))

    it.effect("a failed first request is not remembered: the retry with a fixed body runs", () =>
      Effect.gen(function*() {
        const headers = { "idempotency-key": "create-once-3" }
        expectValidation(yield* writesNothing(post({ title: "" }, headers)))
        const retry = yield* post({ title: "Fixed" }, headers)
        expect(retry.status, retry.text).toBe(201)
        expect((yield* post({ title: "Fixed" }, headers)).text).toBe(retry.text)
      }))

    it.effect("an Idempotency-Key of 256 characters, an empty one, or one with non-printable or non-ASCII characters is a 400 naming Idempotency-Key", () =>
      Effect.gen(function*() {
        for (const key of ["k".repeat(256), "k".repeat(1000), "", "tab\there", "caf\u00e9"]) {
          const reply = yield* writesNothing(post({ title: "Keyed" }, { "idempotency-key": key }))
          expect(expectValidation(reply), JSON.stringify(key)).toEqual(["Idempotency-Key"])
          expect(reply.text).not.toContain("kkkkkkkk")
        }
        // An invalid key cannot be looked up, so the body's own problems are reported with it, all at once.
        const both = yield* writesNothing(post({ title: "", colour: "red" }, { "idempotency-key": "k".repeat(256) }))
        expect(expectValidation(both)).toEqual(["Idempotency-Key", "title", "colour"])
        const longest = yield* post({ title: "Keyed" }, { "idempotency-key": "k".repeat(255) })
        expect(longest.status, longest.text).toBe(201)
        const printable = yield* post({ title: "Keyed 2" }, {
          "idempotency-key": " !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~"
        })
        expect(printable.status, printable.text).toBe(201)
      }))
  })
}
