import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { databases } from "./databases.js"
import type { Reply } from "./fetch-support.js"
import {
  create,
  expectProblem,
  expectValidation,
  type Request,
  send,
  Server,
  withServer,
  writesNothing
} from "./http-support.js"

/**
 * docs/CONTRACT.md §7 and §2 step 4 over HTTP: another organization's workflow answers exactly like a
 * missing one (same status, byte-identical body) on every route, whatever else the request
 * carries, and nothing of it is touched.
 */

const MISSING = "wfl_doesnotexist1"

for (const db of databases) {
  withServer(db, "tenancy over HTTP", (it) => {
    /** A workflow of org_beta, created with org_beta's key. */
    const foreignWorkflow = Effect.gen(function*() {
      const server = yield* Server
      const reply = yield* send("POST", "/v1/workflows", {
        json: { title: "Beta's secret campaign", description: "beta only" },
        key: server.otherKey
      })
      expect(reply.status, reply.text).toBe(201)
      expect(reply.body.organization_id).toBe("org_beta")
      return reply.body.id as string
    })

    /** The same request to a foreign id and to a missing id must get the same answer. */
    const sameAsMissing = (method: string, route: (id: string) => string, request: Request = {}) =>
      Effect.gen(function*() {
        const foreign = yield* foreignWorkflow
        const toForeign: Reply = yield* writesNothing(send(method, route(foreign), request))
        const toMissing: Reply = yield* writesNothing(send(method, route(MISSING), request))
        expect(toForeign.status, `${method} ${route(":id")}`).toBe(toMissing.status)
        expect(toForeign.text, `${method} ${route(":id")}`).toBe(toMissing.text)
        expect(toForeign.headers.get("content-type")).toBe(toMissing.headers.get("content-type"))
        expect(toForeign.headers.get("etag")).toBeNull()
        expect(toForeign.text).not.toContain("Beta")
        expect(toForeign.text).not.toContain("org_beta")
        return toForeign
      })

    it.effect("GET of another organization's workflow is the missing workflow's 404", () =>
      Effect.gen(function*() {
        expectProblem(yield* sameAsMissing("GET", (id) => `/v1/workflows/${id}`), 404, "not_found")
      }))

    it.effect("PATCH of another organization's workflow is the missing workflow's 404, also with If-Match or a status", () =>
      Effect.gen(function*() {
        expectProblem(
          yield* sameAsMissing("PATCH", (id) => `/v1/workflows/${id}`, { json: { title: "Stolen" } }),
          404,
          "not_found"
        )
        expectProblem(
          yield* sameAsMissing("PATCH", (id) => `/v1/workflows/${id}`, {
            json: { title: "Stolen" },
            headers: { "if-match": "\"7\"" }
          }),
          404,
          "not_found"
        )
        expectProblem(
          yield* sameAsMissing("PATCH", (id) => `/v1/workflows/${id}`, { json: { status: "cancelled" } }),
          404,
          "not_found"
        )
        expectProblem(
          yield* sameAsMissing("PATCH", (id) => `/v1/workflows/${id}`, { json: { title: "Beta's secret campaign" } }),
          404,
          "not_found"
        )
        // Body validation still comes first, for both alike.
        expectValidation(yield* sameAsMissing("PATCH", (id) => `/v1/workflows/${id}`, { json: { bogus: 1 } }))
      }))

    it.effect("every lifecycle action on another organization's workflow is the missing workflow's 404", () =>
      Effect.gen(function*() {
        for (const action of ["activate", "pause", "resume", "cancel"]) {
          expectProblem(yield* sameAsMissing("POST", (id) => `/v1/workflows/${id}/${action}`), 404, "not_found")
          expectProblem(
            yield* sameAsMissing("POST", (id) => `/v1/workflows/${id}/${action}`, {
              json: { reason: "x" },
              headers: { "if-match": "\"1\"" }
            }),
            404,
            "not_found"
          )
        }
      }))

    it.effect("the events of another organization's workflow are the missing workflow's 404", () =>
      Effect.gen(function*() {
        expectProblem(yield* sameAsMissing("GET", (id) => `/v1/workflows/${id}/events`), 404, "not_found")
        expectProblem(yield* sameAsMissing("GET", (id) => `/v1/workflows/${id}/events?limit=1`), 404, "not_found")
      }))

    it.effect("the list shows only the caller's organization, and a foreign id is an unknown cursor", () =>
      Effect.gen(function*() {
        const server = yield* Server
        const foreign = yield* foreignWorkflow
        const own = yield* create({ title: "Alpha's own" })
        const alpha = yield* send("GET", "/v1/workflows?limit=100")
        expect(alpha.body.data.map((w: { id: string }) => w.id)).toContain(own.id)
        expect(alpha.body.data.every((w: { organization_id: string }) => w.organization_id === "org_alpha")).toBe(true)
        const beta = yield* send("GET", "/v1/workflows?limit=100", { key: server.otherKey })
        expect(beta.body.data.map((w: { id: string }) => w.id)).toContain(foreign)
        expect(beta.body.data.every((w: { organization_id: string }) => w.organization_id === "org_beta")).toBe(true)
        const foreignCursor = yield* send("GET", `/v1/workflows?starting_after=${foreign}`)
        const missingCursor = yield* send("GET", `/v1/workflows?starting_after=${MISSING}`)
        expect(expectValidation(foreignCursor)).toEqual(["starting_after"])
        expect(foreignCursor.text).toBe(missingCursor.text)
      }))

    it.effect("the owner still sees its workflow untouched after all of that, and an Idempotency-Key is per organization", () =>
      Effect.gen(function*() {
        const server = yield* Server
        const foreign = yield* foreignWorkflow
        yield* send("PATCH", `/v1/workflows/${foreign}`, { json: { title: "Stolen" } })
        yield* send("POST", `/v1/workflows/${foreign}/cancel`)
        const owner = yield* send("GET", `/v1/workflows/${foreign}`, { key: server.otherKey })
        expect(owner.body).toMatchObject({ title: "Beta's secret campaign", status: "draft", version: 1 })
        const events = yield* send("GET", `/v1/workflows/${foreign}/events`, { key: server.otherKey })
        expect(events.body.data.map((e: { type: string }) => e.type)).toEqual(["workflow.created"])
        // The same Idempotency-Key in two organizations makes two workflows.
        const headers = { "idempotency-key": "shared-key-1" }
        const a = yield* send("POST", "/v1/workflows", { json: { title: "Same" }, headers })
        const b = yield* send("POST", "/v1/workflows", { json: { title: "Same" }, headers, key: server.otherKey })
        expect([a.status, b.status]).toEqual([201, 201])
        expect(a.body.id).not.toBe(b.body.id)
        expect(b.body.organization_id).toBe("org_beta")
      }))
  })
}
