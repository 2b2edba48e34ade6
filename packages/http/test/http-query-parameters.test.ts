import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { databases } from "./databases.js"
import { create, expectValidation, send, withServer } from "./http-support.js"

/** A typo in a query string must not be silently ignored, any more than one in a body. */
for (const db of databases) {
  withServer(db, "query parameters", (it) => {
    it.effect("an unknown parameter is a 400 naming it, on the list and on events", () =>
      Effect.gen(function*() {
        const { id } = yield* create()
        for (
          const path of [
            "/v1/workflows?limt=5",
            `/v1/workflows/${id}/events?limt=5`,
            `/v1/workflows/${id}/events?status=active`
          ]
        ) {
          const reply = yield* send("GET", path)
          expect(expectValidation(reply), path).toEqual([path.includes("status=") ? "status" : "limt"])
        }
      }))

    it.effect("a parameter named like an Object.prototype member is as unknown as any other", () =>
      Effect.gen(function*() {
        const { id } = yield* create()
        const names = [
          "constructor",
          "toString",
          "hasOwnProperty",
          "valueOf",
          "__defineGetter__",
          "__proto__",
          "isPrototypeOf",
          "prototype"
        ]
        for (const route of ["/v1/workflows", `/v1/workflows/${id}/events`]) {
          for (const name of names) {
            for (const query of [`${name}=x`, `${name}=x&${name}=y`, `limit=5&${name}=x`]) {
              const path = `${route}?${query}`
              const reply = yield* send("GET", path)
              expect(expectValidation(reply), path).toEqual([name])
              expect(reply.body.errors[0].message, path).toBe("is not a known parameter")
            }
          }
        }
        // Percent-encoded, the name is the same name.
        expect(expectValidation(yield* send("GET", "/v1/workflows?%5F%5Fproto%5F%5F=x"))).toEqual(["__proto__"])
        // And the known parameters still work beside nothing unknown.
        expect((yield* send("GET", "/v1/workflows?limit=5")).status).toBe(200)
      }))

    it.effect("a parameter given twice is a 400 naming it", () =>
      Effect.gen(function*() {
        const reply = yield* send("GET", "/v1/workflows?limit=5&limit=6")
        expect(expectValidation(reply)).toEqual(["limit"])
        expect(reply.body.errors[0].message).toBe("must be given once")
      }))

    it.effect("an unknown status filter lists the statuses, without echoing the value", () =>
      Effect.gen(function*() {
        const reply = yield* send("GET", "/v1/workflows?status=SECRETVALUE123")
        expect(expectValidation(reply)).toEqual(["status"])
        expect(reply.body.errors[0].message).toBe("must be one of draft, active, running, paused, completed, cancelled")
        expect(reply.text).not.toContain("SECRETVALUE123")
      }))
  })
}
