import * as HttpApi from "@effect/platform/HttpApi"
import { expect } from "@effect/vitest"
import { WorkflowsApi } from "@workflows/http"
import Database from "better-sqlite3"
import { Effect, Fiber } from "effect"
import { databases } from "./databases.js"
import type { Reply } from "./fetch-support.js"
import {
  create,
  expectProblem,
  expectValidation,
  insert,
  send,
  Server,
  withServer,
  withSql,
  writesNothing
} from "./http-support.js"
import { eventsOf } from "./support.js"

/**
 * The HttpApi defaults that break the contract (docs/CONTRACT.md §5), over HTTP: every response the framework
 * would write in its own shape (empty 404s, empty 400s, 400 for a server bug, echoed input) is a
 * problem document here, and every response carries a sane `X-Request-Id`.
 */

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** A 500 that tells the client nothing about the server's insides. */
const expectOpaque500 = (reply: Reply, secrets: ReadonlyArray<string>) => {
  expectProblem(reply, 500, "internal")
  for (const secret of [...secrets, "at ", "SELECT", "Error:", "stack", "ParseError", "sqlite", "postgres"]) {
    expect(reply.text.toLowerCase(), secret).not.toContain(secret.toLowerCase())
  }
}

for (const db of databases) {
  withServer(db, "edge defaults replaced by the contract", (it) => {
    it.effect("an unknown route or a wrong method is a 404 problem document, not an empty body", () =>
      Effect.gen(function*() {
        const { id } = yield* create()
        const cases: ReadonlyArray<readonly [string, string]> = [
          ["GET", "/v1/nothing"],
          ["GET", "/nothing"],
          ["GET", "/"],
          ["GET", "/v2/workflows"],
          ["DELETE", `/v1/workflows/${id}`],
          ["PUT", `/v1/workflows/${id}`],
          ["PATCH", "/v1/workflows"],
          ["GET", `/v1/workflows/${id}/activate`],
          ["POST", `/v1/workflows/${id}/complete`],
          ["POST", `/v1/workflows/${id}/events`]
        ]
        for (const [method, path] of cases) {
          for (const key of [undefined, null] as const) {
            const reply = yield* send(method, path, key === null ? { key } : {})
            expect(reply.text.length, `${method} ${path}`).toBeGreaterThan(0)
            expectProblem(reply, 404, "not_found")
          }
        }
        // A wrong method changed nothing.
        expect((yield* send("GET", `/v1/workflows/${id}`)).status).toBe(200)
      }))

    it.effect("every endpoint of the API definition is served: without a key each asks for one (the open ones answer), none is 'no route'", () =>
      Effect.gen(function*() {
        const endpoints: Array<{ readonly method: string; readonly path: string; readonly open: boolean }> = []
        HttpApi.reflect(WorkflowsApi, {
          onGroup: () => {},
          onEndpoint: ({ endpoint, group }) =>
            endpoints.push({
              method: endpoint.method,
              path: endpoint.path.replace(":id", "wfl_missing0000"),
              open: group.identifier === "system"
            })
        })
        expect(endpoints.filter((e) => e.open).length).toBeGreaterThan(0)
        expect(endpoints.filter((e) => !e.open).length).toBeGreaterThan(0)
        for (const { method, open, path } of endpoints) {
          const reply = yield* send(method, path, { key: null })
          if (open) expect(reply.status, `${method} ${path}`).toBe(200)
          else {
            expectProblem(reply, 401, "unauthorized")
            expect(reply.headers.get("www-authenticate"), `${method} ${path}`).toBe("Bearer")
          }
        }
      }))

    it.effect("a bad query parameter is a 400 naming it, and the rejected value never comes back", () =>
      Effect.gen(function*() {
        const { id } = yield* create()
        const cases: ReadonlyArray<readonly [string, string]> = [
          ["/v1/workflows?limit=abc", "limit"],
          ["/v1/workflows?limit=0", "limit"],
          ["/v1/workflows?limit=101", "limit"],
          ["/v1/workflows?limit=-1", "limit"],
          ["/v1/workflows?limit=1.5", "limit"],
          ["/v1/workflows?limit=SECRETVALUE123", "limit"],
          ["/v1/workflows?status=SECRETVALUE123", "status"],
          ["/v1/workflows?starting_after=SECRETVALUE123%20%3Cscript%3E", "starting_after"],
          [`/v1/workflows/${id}/events?limit=SECRETVALUE123`, "limit"],
          [`/v1/workflows/${id}/events?limit=0`, "limit"],
          [`/v1/workflows/${id}/events?starting_after=SECRETVALUE123!`, "starting_after"]
        ]
        for (const [path, field] of cases) {
          const reply = yield* send("GET", path)
          expect(expectValidation(reply), path).toContain(field)
          expect(reply.text, path).not.toContain("SECRETVALUE123")
          expect(reply.text, path).not.toContain("HttpApiDecodeError")
        }
        // A huge rejected value is not echoed either.
        const huge = yield* send("GET", `/v1/workflows?status=${"SECRETVALUE123".repeat(200)}`)
        expect(expectValidation(huge)).toEqual(["status"])
        expect(huge.text.length).toBeLessThan(1000)
      }))

    it.effect("a server bug is a 500 `internal` problem without stack trace or SQL, never a 400", () =>
      Effect.gen(function*() {
        const server = yield* Server
        const row = yield* insert({ title: "Corrupt row" })
        // A value the schema does not allow, as a broken migration or another writer might leave it.
        yield* Effect.orDie(server.sql`UPDATE workflows SET status = ${"bogus"} WHERE id = ${row.id}`)
        const get = yield* send("GET", `/v1/workflows/${row.id}`)
        expectOpaque500(get, ["bogus"])
        expect(get.headers.get("x-request-id")).toMatch(SANE_ID)
        // The operator gets what the client does not: an ERROR line with the cause and the request id.
        const logged = server.logs().find((line) => line.includes(`request_id=${get.headers.get("x-request-id")}`))
        expect(logged).toMatch(/level=ERROR .*message="request failed with a defect" cause="ParseError/)
        const list = yield* send("GET", "/v1/workflows")
        expectOpaque500(list, ["bogus"])
        const patch = yield* send("PATCH", `/v1/workflows/${row.id}`, { json: { title: "Fixed?" } })
        expectOpaque500(patch, ["bogus"])
        const activate = yield* send("POST", `/v1/workflows/${row.id}/activate`)
        expectOpaque500(activate, ["bogus"])
        // The broken row was not touched by the failed writes.
        const stored = yield* Effect.orDie(
          server.sql<{ title: string; version: number }>`SELECT title, version FROM workflows WHERE id = ${row.id}`
        )
        expect(stored[0]).toMatchObject({ title: "Corrupt row" })
        expect(Number(stored[0]!.version)).toBe(row.version)
        // Other requests go on working.
        yield* Effect.orDie(server.sql`DELETE FROM workflows WHERE id = ${row.id}`)
        expect((yield* send("GET", "/v1/workflows")).status).toBe(200)
      }))

    if (db.name === "sqlite") {
      it.effect(
        "a database locked for longer than a write waits (5 s) is a 503 with Retry-After (a retry, not a bug), and changes nothing",
        () =>
          Effect.gen(function*() {
            const server = yield* Server
            const row = yield* insert({ title: "Before the lock" })
            const filename = server.database._tag === "Sqlite" ? server.database.filename : ""
            // Another process holds the write lock for longer than a write waits for it (5 s).
            const blocked = yield* Effect.acquireUseRelease(
              Effect.sync(() => {
                const other = new Database(filename)
                other.exec("BEGIN IMMEDIATE")
                return other
              }),
              () => writesNothing(send("PATCH", `/v1/workflows/${row.id}`, { json: { title: "While locked" } })),
              (other) => Effect.sync(() => (other.exec("ROLLBACK"), other.close()))
            )
            expectProblem(blocked, 503, "internal")
            expect(blocked.headers.get("retry-after")).toBe("1")
            const logged = server.logs().find((line) =>
              line.includes(`request_id=${blocked.headers.get("x-request-id")}`)
            )
            expect(logged).toMatch(/level=WARN .*message="request failed: the database is unavailable"/)
            expect(blocked.text).not.toMatch(/SQLITE|busy|locked/i)
            const after = yield* send("PATCH", `/v1/workflows/${row.id}`, { json: { title: "After the lock" } })
            expect(after.status, after.text).toBe(200)
          }),
        30_000
      )

      it.effect(
        "while another process holds the write lock, reads go on, and a write waiting for it lands once it is free",
        () =>
          Effect.gen(function*() {
            const server = yield* Server
            const row = yield* insert({ title: "Before the wait" })
            const other = new Database(server.database._tag === "Sqlite" ? server.database.filename : "")
            other.exec("BEGIN IMMEDIATE")
            const write = yield* Effect.fork(
              send("PATCH", `/v1/workflows/${row.id}`, { json: { title: "After the wait" } })
            )
            yield* Effect.sleep("300 millis")
            // SQLite's own busy wait would hold this process's event loop for the whole five seconds.
            const started = performance.now()
            const read = yield* send("GET", `/v1/workflows/${row.id}`)
            const health = yield* send("GET", "/healthz", { key: null })
            expect(performance.now() - started).toBeLessThan(2_000)
            expect(read.body.title).toBe("Before the wait")
            expect(health.status).toBe(200)
            yield* Effect.sleep("700 millis")
            other.exec("ROLLBACK")
            other.close()
            const written = yield* Fiber.join(write)
            expect(written.status, written.text).toBe(200)
            expect(written.body).toMatchObject({ title: "After the wait", version: row.version + 1 })
          }),
        30_000
      )
    }

    it.effect("an id outside the pattern, long or broken, is the missing workflow's 404, and still needs a key first", () =>
      Effect.gen(function*() {
        const missing = yield* send("GET", "/v1/workflows/wfl_doesnotexist1")
        // Broken percent-escapes too (no UTF-8 behind them): the route is found, the id is not.
        for (
          const id of [
            "x".repeat(150),
            `wfl_${"a".repeat(500)}`,
            "not-an-id",
            "wfl_%20x",
            "%F0%9F%98%80",
            "%FF",
            "wfl_%E0%A4%A",
            "%",
            "%zz"
          ]
        ) {
          const reply = yield* send("GET", `/v1/workflows/${id}`)
          expectProblem(reply, 404, "not_found")
          expect(reply.text, id).toBe(missing.text)
          const anonymous = yield* send("GET", `/v1/workflows/${id}`, { key: null })
          expectProblem(anonymous, 401, "unauthorized")
        }
      }))

    it.effect("a sane X-Request-Id is echoed; anything else is replaced by a generated sane one", () =>
      Effect.gen(function*() {
        for (const sane of ["abc-123", "A.b_c:d-e", "x".repeat(128), "0"]) {
          const reply = yield* send("GET", "/healthz", { headers: { "x-request-id": sane } })
          expect(reply.headers.get("x-request-id")).toBe(sane)
        }
        const generated = new Set<string>()
        for (
          const insane of [
            "x".repeat(129),
            "x".repeat(200),
            "has spaces",
            "semi;colon",
            "slash/es",
            "quote\"s",
            "é",
            "<script>"
          ]
        ) {
          const reply = yield* send("GET", "/healthz", { headers: { "x-request-id": insane } })
          const id = reply.headers.get("x-request-id")!
          expect(id, insane).not.toBe(insane)
          expect(id).toMatch(SANE_ID)
          generated.add(id)
        }
        expect(generated.size).toBe(8)
        const none = yield* send("GET", "/healthz")
        expect(none.headers.get("x-request-id")).toMatch(SANE_ID)
      }))

    it.effect("X-Request-Id is on 200, 201, 4xx, unknown-route 404, 415, 413 and 500 responses, echoed when sane", () =>
      Effect.gen(function*() {
        const server = yield* Server
        const { id } = yield* create()
        const headers = { "x-request-id": "trace-42" }
        const replies: ReadonlyArray<readonly [string, Reply]> = [
          ["200 get", yield* send("GET", `/v1/workflows/${id}`, { headers })],
          ["200 list", yield* send("GET", "/v1/workflows", { headers })],
          ["201 create", yield* send("POST", "/v1/workflows", { headers, json: { title: "t" } })],
          ["200 healthz", yield* send("GET", "/healthz", { headers, key: null })],
          ["200 openapi", yield* send("GET", "/openapi.json", { headers, key: null })],
          ["200 docs", yield* send("GET", "/docs", { headers, key: null })],
          ["401", yield* send("GET", `/v1/workflows/${id}`, { headers, key: null })],
          ["400", yield* send("PATCH", `/v1/workflows/${id}`, { headers, json: {} })],
          [
            "400 malformed",
            yield* send("PATCH", `/v1/workflows/${id}`, {
              headers: { ...headers, "content-type": "application/json" },
              raw: "{"
            })
          ],
          ["404", yield* send("GET", "/v1/workflows/wfl_doesnotexist1", { headers })],
          ["404 route", yield* send("GET", "/v1/nothing", { headers })],
          ["415", yield* send("PATCH", `/v1/workflows/${id}`, { headers, raw: "{}" })],
          [
            "413",
            yield* send("PATCH", `/v1/workflows/${id}`, {
              headers: { ...headers, "content-type": "application/json" },
              raw: "x".repeat(70_000)
            })
          ]
        ]
        for (const [what, reply] of replies) expect(reply.headers.get("x-request-id"), what).toBe("trace-42")
        const row = yield* insert()
        yield* Effect.orDie(server.sql`UPDATE workflows SET status = ${"bogus"} WHERE id = ${row.id}`)
        const failed = yield* send("GET", `/v1/workflows/${row.id}`, { headers })
        expect(failed.status).toBe(500)
        expect(failed.headers.get("x-request-id")).toBe("trace-42")
        yield* Effect.orDie(server.sql`DELETE FROM workflows WHERE id = ${row.id}`)
      }))

    it.effect("the audit event's request_id is the response's X-Request-Id, echoed or generated", () =>
      Effect.gen(function*() {
        const created = yield* send("POST", "/v1/workflows", {
          json: { title: "Traced" },
          headers: { "x-request-id": "create-1" }
        })
        expect(created.headers.get("x-request-id")).toBe("create-1")
        const id = created.body.id as string
        const patched = yield* send("PATCH", `/v1/workflows/${id}`, {
          json: { title: "Traced 2" },
          headers: { "x-request-id": "not sane!" }
        })
        const generated = patched.headers.get("x-request-id")!
        expect(generated).toMatch(SANE_ID)
        const activated = yield* send("POST", `/v1/workflows/${id}/activate`, {
          headers: { "x-request-id": "activate-1" }
        })
        expect(activated.status).toBe(200)
        const events = yield* withSql(eventsOf(id))
        expect(events.map((e) => [e.type, e.request_id])).toEqual([
          ["workflow.created", "create-1"],
          ["workflow.updated", generated],
          ["workflow.activated", "activate-1"]
        ])
        const overHttp = yield* send("GET", `/v1/workflows/${id}/events`)
        expect(overHttp.body.data.map((e: { request_id: string }) => e.request_id)).toEqual([
          "activate-1",
          generated,
          "create-1"
        ])
      }))
  })
}
