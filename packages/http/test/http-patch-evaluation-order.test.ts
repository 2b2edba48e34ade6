import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { gzipSync } from "node:zlib"
import { databases } from "./databases.js"
import type { Reply } from "./fetch-support.js"
import {
  expectProblem,
  expectValidation,
  extraKey,
  insert,
  type Request,
  send,
  sendNode,
  stored,
  withServer,
  withSql,
  writesNothing
} from "./http-support.js"
import { eventsOf, ORG_B, rowOf } from "./support.js"

/**
 * docs/CONTRACT.md §2 over HTTP: every row of the PATCH evaluation order (401, 415, 413, 400 body, 400
 * validation, 404, 412, 409, 400 read-only, 200, no-op), which failure wins when several apply,
 * and after each failure the whole database (rows, events, idempotency keys) is unchanged.
 */

const MISSING = "/v1/workflows/wfl_doesnotexist1"
const BIG = 64 * 1024

/** A PATCH that must fail and write nothing. */
const patchFails = (path: string, request: Request) => writesNothing(send("PATCH", path, request))

const expectUnauthorized = (reply: Reply) => {
  expectProblem(reply, 401, "unauthorized")
  expect(reply.headers.get("www-authenticate")).toBe("Bearer")
}

const expectUnsupported = (reply: Reply) => {
  expectProblem(reply, 415, "unsupported_media_type")
  const accepted = (reply.headers.get("accept-patch") ?? "").split(",").map((s) => s.trim())
  expect(accepted).toEqual(expect.arrayContaining(["application/json", "application/merge-patch+json"]))
}

/** The stored workflow every test of this file edits: active, version 3, old timestamps. */
const fixture = insert({ title: "Original title", description: "Original description", status: "active", version: 3 })

for (const db of databases) {
  withServer(db, "PATCH /v1/workflows/{id}: evaluation order over HTTP", (it) => {
    it.effect("1. 401 without a usable Bearer key, with WWW-Authenticate: Bearer", () =>
      Effect.gen(function*() {
        const { id } = yield* fixture
        const path = `/v1/workflows/${id}`
        const json = { title: "Changed" }
        expectUnauthorized(yield* patchFails(path, { json, key: null }))
        expectUnauthorized(yield* patchFails(path, { json, key: null, headers: { authorization: "Basic abc" } }))
        expectUnauthorized(yield* patchFails(path, { json, key: null, headers: { authorization: "Bearer " } }))
        expectUnauthorized(yield* patchFails(path, { json, key: null, headers: { authorization: "Bearer" } }))
        expectUnauthorized(yield* patchFails(path, { json, key: "wfk_0123456789abcdefghijKLMNOPQRSTUV" }))
        expectUnauthorized(yield* patchFails(path, { json, key: "not-a-key" }))
        // A revoked key is refused at once.
        const extra = yield* extraKey
        const before = yield* send("PATCH", path, { json: { title: "Changed by a live key" }, key: extra.key })
        expect(before.status, before.text).toBe(200)
        yield* extra.revoke
        expectUnauthorized(yield* patchFails(path, { json, key: extra.key }))
        expect((yield* withSql(rowOf(id))).title).toBe("Changed by a live key")
      }))

    it.effect("401 wins over every later step: bad body, missing workflow, stale If-Match, status change", () =>
      Effect.gen(function*() {
        const { id } = yield* fixture
        const path = `/v1/workflows/${id}`
        expectUnauthorized(
          yield* patchFails(path, { raw: "{not json", headers: { "content-type": "application/json" }, key: null })
        )
        expectUnauthorized(
          yield* patchFails(path, { raw: "title=x", headers: { "content-type": "text/plain" }, key: null })
        )
        expectUnauthorized(
          yield* patchFails(path, {
            raw: "x".repeat(BIG + 1),
            headers: { "content-type": "application/json" },
            key: null
          })
        )
        expectUnauthorized(yield* patchFails(path, { json: { bogus: 1 }, key: null }))
        expectUnauthorized(yield* patchFails(MISSING, { json: { title: "x" }, key: null }))
        expectUnauthorized(
          yield* patchFails(MISSING, { json: { bogus: 1 }, key: "wfk_0123456789abcdefghijKLMNOPQRSTUV" })
        )
        expectUnauthorized(
          yield* patchFails(path, { json: { status: "paused" }, key: null, headers: { "if-match": "\"1\"" } })
        )
      }))

    it.effect("2. 415 for a body that is not JSON by its Content-Type, a missing one included, with Accept-Patch", () =>
      Effect.gen(function*() {
        const { id } = yield* fixture
        const path = `/v1/workflows/${id}`
        const raw = JSON.stringify({ title: "Changed" })
        expectUnsupported(yield* patchFails(path, { raw, headers: { "content-type": "text/plain" } }))
        expectUnsupported(yield* patchFails(path, { raw })) // bytes: fetch sends no Content-Type
        expectUnsupported(
          yield* patchFails(path, { raw, headers: { "content-type": "application/x-www-form-urlencoded" } })
        )
        expectUnsupported(yield* patchFails(path, { raw, headers: { "content-type": "application/jsonp" } }))
        // JSON is UTF-8: a body declared in another charset would be misread.
        expectUnsupported(
          yield* patchFails(path, { raw, headers: { "content-type": "application/json; charset=latin1" } })
        )
        expectUnsupported(
          yield* patchFails(path, { raw, headers: { "content-type": "application/merge-patch+json; charset=utf-16" } })
        )
        // A compressed body is refused as such, not misreported as malformed JSON.
        const gzipped = yield* patchFails(path, {
          raw: gzipSync(raw),
          headers: { "content-type": "application/json", "content-encoding": "gzip" }
        })
        expectProblem(gzipped, 415, "unsupported_media_type")
        expect(gzipped.body.detail).toMatch(/Content-Encoding/)
        expect(gzipped.headers.get("accept-encoding")).toBe("identity")
        const identity = yield* send("PATCH", path, {
          raw,
          headers: { "content-type": "application/json", "content-encoding": "identity" }
        })
        expect(identity.status, identity.text).toBe(200)
      }))

    it.effect("2. application/merge-patch+json and application/json with a charset are accepted", () =>
      Effect.gen(function*() {
        const { id } = yield* fixture
        const path = `/v1/workflows/${id}`
        const merge = yield* send("PATCH", path, {
          raw: JSON.stringify({ title: "Merged" }),
          headers: { "content-type": "application/merge-patch+json" }
        })
        expect(merge.status, merge.text).toBe(200)
        expect(merge.body).toMatchObject({ title: "Merged", name: "Merged", version: 4 })
        const charset = yield* send("PATCH", path, {
          raw: JSON.stringify({ title: "Charset" }),
          headers: { "content-type": "application/json; charset=utf-8" }
        })
        expect(charset.status, charset.text).toBe(200)
        expect(charset.body).toMatchObject({ title: "Charset", version: 5 })
      }))

    it.effect("2. 413 for a body over 64 KiB: by Content-Length, and streamed in chunks without one", () =>
      Effect.gen(function*() {
        const { id } = yield* fixture
        const path = `/v1/workflows/${id}`
        // A valid JSON object just over the limit: only its size is wrong.
        const oversized = JSON.stringify({ title: "Changed", description: "d".repeat(BIG) })
        expectProblem(
          yield* patchFails(path, { raw: oversized, headers: { "content-type": "application/json" } }),
          413,
          "payload_too_large"
        )
        const before = yield* stored
        const chunk = "d".repeat(8 * 1024)
        const chunks = [
          "{\"title\": \"Changed\", \"description\": \"",
          ...Array.from({ length: 10 }, () => chunk),
          "\"}"
        ]
        const chunked = yield* sendNode("PATCH", path, {
          headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
          chunks
        })
        expect(chunked.headers.get("x-request-id")).toBeTruthy()
        expectProblem(chunked, 413, "payload_too_large")
        expect(yield* stored).toEqual(before)
        // The same chunked transport under the limit works.
        const small = yield* sendNode("PATCH", path, {
          headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
          chunks: ["{\"title\": ", "\"Chunked\"", "}"]
        })
        expect(small.status, small.text).toBe(200)
        expect(small.body).toMatchObject({ title: "Chunked", version: 4 })
      }))

    it.effect("2. order inside step 2: 415 before 413 before 400", () =>
      Effect.gen(function*() {
        const { id } = yield* fixture
        const path = `/v1/workflows/${id}`
        const hugeGarbage = `{${"x".repeat(BIG + 10)}`
        expectUnsupported(yield* patchFails(path, { raw: hugeGarbage, headers: { "content-type": "text/plain" } }))
        expectUnsupported(yield* patchFails(path, { raw: hugeGarbage }))
        expectProblem(
          yield* patchFails(path, { raw: hugeGarbage, headers: { "content-type": "application/json" } }),
          413,
          "payload_too_large"
        )
        expectProblem(
          yield* patchFails(path, { raw: `[${"1,".repeat(BIG)}1]`, headers: { "content-type": "application/json" } }),
          413,
          "payload_too_large"
        )
      }))

    it.effect("2. 400 for malformed JSON, invalid UTF-8 and a JSON value that is not an object", () =>
      Effect.gen(function*() {
        const { id } = yield* fixture
        const path = `/v1/workflows/${id}`
        const json = { "content-type": "application/json" }
        for (
          const raw of [
            "{not json",
            "{\"title\": \"x\"",
            "",
            "[]",
            "[{\"title\": \"x\"}]",
            "\"title\"",
            "42",
            "null",
            "true"
          ]
        ) {
          const reply = yield* patchFails(path, { raw, headers: json })
          expect(expectValidation(reply), JSON.stringify(raw)).toEqual([null])
        }
        const badUtf8 = new Uint8Array([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])
        expect(expectValidation(yield* patchFails(path, { raw: badUtf8, headers: json }))).toEqual([null])
        // Body shape errors come before 404.
        expect(expectValidation(yield* patchFails(MISSING, { raw: "{not json", headers: json }))).toEqual([null])
      }))

    it.effect("3. 400 validation names every problem at once, each with its field", () =>
      Effect.gen(function*() {
        const { id } = yield* fixture
        const path = `/v1/workflows/${id}`
        const reply = yield* patchFails(path, {
          json: {
            title: null,
            titel: "typo",
            nodes: [],
            edges: [],
            leads: [],
            version: 0,
            node_count: -1,
            created_at: "yesterday",
            status: "running",
            description: 5
          }
        })
        expect([...expectValidation(reply)].sort()).toEqual(
          ["title", "titel", "nodes", "edges", "leads", "version", "node_count", "created_at", "status", "description"]
            .sort()
        )
        const errors = reply.body.errors as ReadonlyArray<{ field: string; message: string }>
        const message = (field: string) => errors.find((e) => e.field === field)!.message
        expect(message("nodes")).toMatch(/workflow-nodes/)
        expect(message("edges")).toMatch(/workflow-edges/)
        expect(message("leads")).toMatch(/Add Lead/)
        expect(message("status")).toMatch(/active/)
        // Problems name the field and the rule; they never echo the rejected value.
        const secret = yield* patchFails(path, {
          json: { title: 42, SECRETFIELD: "SECRETVALUE123", status: "SECRETVALUE123" }
        })
        expect([...expectValidation(secret)].sort()).toEqual(["SECRETFIELD", "status", "title"])
        expect(secret.text).not.toContain("SECRETVALUE123")
        for (
          const [body, fields] of [
            [{}, [null]],
            [{ title: "" }, ["title"]],
            [{ name: "x".repeat(201) }, ["name"]],
            [{ description: "d".repeat(2001) }, ["description"]],
            [{ title: "bell\u0007" }, ["title"]],
            // JSON can carry half of a surrogate pair; it is no character and could not be stored as sent.
            [{ title: "half \ud800 pair" }, ["title"]],
            [{ description: "\udc00" }, ["description"]],
            [{ status: "bogus" }, ["status"]],
            [{ version: "3" }, ["version"]]
          ] as const
        ) {
          expect(expectValidation(yield* patchFails(path, { json: body })), JSON.stringify(body)).toEqual(fields)
        }
      }))

    it.effect("3 before 4: an invalid body to a missing workflow is a 400, not a 404", () =>
      Effect.gen(function*() {
        expect(expectValidation(yield* patchFails(MISSING, { json: { bogus: 1 } }))).toEqual(["bogus"])
        expect(expectValidation(yield* patchFails(MISSING, { json: {} }))).toEqual([null])
        expect(expectValidation(yield* patchFails("/v1/workflows/not-an-id", { json: { title: null } }))).toEqual([
          "title"
        ])
        // A read-only id that is no id at all is a wrong-typed value (step 3), not a mismatch (step 7).
        expect(expectValidation(yield* patchFails(MISSING, { json: { title: "x", id: "", organization_id: "nope" } })))
          .toEqual([
            "id",
            "organization_id"
          ])
      }))

    it.effect("4. 404 for a missing workflow, an id outside the pattern, and another organization's workflow", () =>
      Effect.gen(function*() {
        const foreign = yield* insert({ organization_id: ORG_B })
        const missing = yield* patchFails(MISSING, { json: { title: "x" } })
        expectProblem(missing, 404, "not_found")
        for (
          const path of [
            "/v1/workflows/not-an-id",
            "/v1/workflows/wfl_",
            `/v1/workflows/${"a".repeat(300)}`,
            `/v1/workflows/${foreign.id}`
          ]
        ) {
          const reply = yield* patchFails(path, { json: { title: "x" } })
          expectProblem(reply, 404, "not_found")
          expect(reply.text, path).toBe(missing.text)
        }
      }))

    it.effect("4 before 5 before 6: 404 wins over 412, 412 wins over 409", () =>
      Effect.gen(function*() {
        const { id } = yield* fixture
        expectProblem(
          yield* patchFails(MISSING, { json: { title: "x" }, headers: { "if-match": "\"1\"" } }),
          404,
          "not_found"
        )
        expectProblem(
          yield* patchFails(MISSING, { json: { status: "paused" }, headers: { "if-match": "\"1\"" } }),
          404,
          "not_found"
        )
        expectProblem(
          yield* patchFails(`/v1/workflows/${id}`, { json: { status: "paused" }, headers: { "if-match": "\"2\"" } }),
          412,
          "precondition_failed"
        )
      }))

    it.effect("5. 412 for a stale If-Match; the current ETag and * pass", () =>
      Effect.gen(function*() {
        const { id } = yield* fixture
        const path = `/v1/workflows/${id}`
        for (const ifMatch of ["\"2\"", "\"4\"", "3", "W/\"3\"", "garbage"]) {
          const reply = yield* patchFails(path, { json: { title: "x" }, headers: { "if-match": ifMatch } })
          const body = expectProblem(reply, 412, "precondition_failed")
          expect(body.current_etag, ifMatch).toBe("\"3\"")
        }
        // A stale If-Match fails even when the patch would be a no-op.
        expectProblem(
          yield* patchFails(path, { json: { title: "Original title" }, headers: { "if-match": "\"2\"" } }),
          412,
          "precondition_failed"
        )
        const current = yield* send("PATCH", path, { json: { title: "With ETag" }, headers: { "if-match": "\"3\"" } })
        expect(current.status, current.text).toBe(200)
        expect(current.headers.get("etag")).toBe("\"4\"")
        const star = yield* send("PATCH", path, { json: { title: "With star" }, headers: { "if-match": "*" } })
        expect(star.status, star.text).toBe(200)
        expect(star.headers.get("etag")).toBe("\"5\"")
      }))

    it.effect("5. a long If-Match is still a 412, and the answer quotes only its start", () =>
      Effect.gen(function*() {
        const { id } = yield* fixture
        const ifMatch = `"${"7".repeat(15_000)}"`
        for (
          const [method, path] of [["PATCH", `/v1/workflows/${id}`], ["POST", `/v1/workflows/${id}/pause`]] as const
        ) {
          const reply = yield* writesNothing(
            send(method, path, { json: method === "PATCH" ? { title: "x" } : {}, headers: { "if-match": ifMatch } })
          )
          const body = expectProblem(reply, 412, "precondition_failed")
          expect(body.current_etag).toBe("\"3\"")
          expect(reply.text.length, method).toBeLessThan(1_000)
          expect(body.detail).toContain(`If-Match "${"7".repeat(63)}…`)
        }
      }))

    it.effect("6. 409 for a status change, before the read-only check", () =>
      Effect.gen(function*() {
        const { id } = yield* fixture
        const path = `/v1/workflows/${id}`
        const reply = yield* patchFails(path, { json: { title: "x", status: "draft", version: 99 } })
        expect(expectProblem(reply, 409, "status_conflict")).toMatchObject({
          current_status: "active",
          requested_status: "draft",
          allowed_actions: ["pause", "cancel"]
        })
        // Legacy running ≡ active: echoing active to a running workflow is no change.
        const running = yield* insert({ status: "running" })
        const echo = yield* send("PATCH", `/v1/workflows/${running.id}`, {
          json: { title: "Renamed", status: "active" }
        })
        expect(echo.status, echo.text).toBe(200)
        expect(echo.body.status).toBe("running")
        const conflict = yield* patchFails(`/v1/workflows/${running.id}`, { json: { status: "paused" } })
        expect(expectProblem(conflict, 409, "status_conflict")).toMatchObject({
          current_status: "running",
          requested_status: "paused"
        })
      }))

    it.effect("7. 400 for read-only fields that differ (each named), title/name disagreement, or no editable field", () =>
      Effect.gen(function*() {
        const row = yield* fixture
        const path = `/v1/workflows/${row.id}`
        const differs = yield* patchFails(path, {
          json: {
            title: "x",
            version: 99,
            node_count: 5,
            id: "wfl_somethingelse",
            organization_id: "org_beta",
            created_at: "2021-01-01T00:00:00.000Z"
          }
        })
        expect([...expectValidation(differs)].sort()).toEqual([
          "created_at",
          "id",
          "node_count",
          "organization_id",
          "version"
        ])
        expect(expectValidation(yield* patchFails(path, { json: { title: "One", name: "Two" } }))).toEqual(["name"])
        expect(expectValidation(yield* patchFails(path, { json: { version: 3, status: "active" } }))).toEqual([null])
      }))

    it.effect("8. 200 with the whole workflow and its ETag; GET → edit → PATCH works with every field echoed", () =>
      Effect.gen(function*() {
        const row = yield* fixture
        const path = `/v1/workflows/${row.id}`
        const read = yield* send("GET", path)
        const reply = yield* send("PATCH", path, {
          json: { ...read.body, name: "Edited", description: "  " },
          headers: { "if-match": read.headers.get("etag")! }
        })
        expect(reply.status, reply.text).toBe(200)
        expect(reply.headers.get("etag")).toBe("\"4\"")
        expect(reply.body).toMatchObject({
          id: row.id,
          title: "Edited",
          name: "Edited",
          description: null,
          version: 4,
          created_at: row.created_at
        })
        expect(reply.body.updated_at).not.toBe(row.updated_at)
        const stored = yield* withSql(rowOf(row.id))
        expect(stored).toMatchObject({
          title: "Edited",
          description: null,
          version: 4,
          updated_at: reply.body.updated_at
        })
        const events = yield* withSql(eventsOf(row.id))
        expect(events.map((e) => e.type)).toEqual(["workflow.updated"])
        expect(events[0]!.changes).toEqual({
          title: { from: "Original title", to: "Edited" },
          description: { from: "Original description", to: null }
        })
        expect(events[0]!.request_id).toBe(reply.headers.get("x-request-id"))
      }))

    it.effect("8. a patch equal to the stored values is a no-op: 200, version and updated_at unchanged, no event", () =>
      Effect.gen(function*() {
        const row = yield* fixture
        const path = `/v1/workflows/${row.id}`
        for (
          const json of [{ title: "Original title" }, { name: "  Original title\t" }, {
            description: "Original description",
            status: "active",
            version: 3
          }]
        ) {
          const reply = yield* writesNothing(send("PATCH", path, { json }))
          expect(reply.status, reply.text).toBe(200)
          expect(reply.headers.get("etag")).toBe("\"3\"")
          expect(reply.body).toMatchObject({ version: 3, updated_at: row.updated_at, title: "Original title" })
        }
        expect(yield* withSql(eventsOf(row.id))).toHaveLength(0)
      }))
  })
}
