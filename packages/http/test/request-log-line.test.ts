import * as HttpServer from "@effect/platform/HttpServer"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { OrganizationId } from "@workflows/domain"
import { ApiKeys, HttpAppLive, NodeServerLive, Sql, WorkflowStore } from "@workflows/http"
import { Cause, Effect, Layer, Logger } from "effect"
import { databases } from "./databases.js"

/** What a logger of the library user's own receives, kept structured. */
interface Entry {
  readonly level: string
  readonly message: unknown
  readonly hasCause: boolean
  readonly annotations: ReadonlyArray<readonly [string, unknown]>
}

/** `HttpAppLive` on a real port, logging to a logger installed by the test as a library user would. */
const serverWithOwnLogger = Effect.gen(function*() {
  const entries: Array<Entry> = []
  const own = Logger.make(({ annotations, cause, logLevel, message }) => {
    entries.push({ level: logLevel.label, message, hasCause: !Cause.isEmpty(cause), annotations: [...annotations] })
  })
  const database = yield* databases[0]!.fresh
  const context = yield* Layer.build(
    HttpAppLive(database).pipe(
      Layer.provideMerge(NodeServerLive({ port: 0, host: "127.0.0.1" })),
      Layer.provideMerge(Layer.mergeAll(WorkflowStore.Default, ApiKeys.Default)),
      Layer.provideMerge(Sql.layer(database)),
      Layer.provide(Logger.replace(Logger.defaultLogger, own)),
      Layer.orDie
    )
  )
  return yield* Effect.gen(function*() {
    const key = yield* Effect.flatMap(ApiKeys, (keys) => keys.create(OrganizationId.make("org_alpha"), "test"))
    const url = yield* HttpServer.addressFormattedWith((address) => Effect.succeed(address))
    const sql = yield* SqlClient.SqlClient
    const send = (path: string, init: RequestInit = {}) =>
      Effect.promise(async () => {
        const response = await fetch(`${url}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${key.key}`, ...init.headers }
        })
        return { status: response.status, body: await response.text() }
      })
    const linesOf = (requestId: string) =>
      entries.filter((entry) => entry.annotations.some(([name, value]) => name === "request_id" && value === requestId))
    return { send, sql, linesOf }
  }).pipe(Effect.provide(context))
})

describe("the request log line, seen by a logger of the library user's own", () => {
  it.scoped("is an INFO line whose annotations are request_id, status and duration_ms, in that order", () =>
    Effect.gen(function*() {
      const server = yield* serverWithOwnLogger
      const response = yield* server.send("/healthz", { headers: { "x-request-id": "own-logger-1" } })
      expect(response.status).toBe(200)
      const lines = server.linesOf("own-logger-1")
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({ level: "INFO", message: ["GET /healthz 200"], hasCause: false })
      expect(lines[0]!.annotations.map(([name]) => name)).toEqual(["request_id", "status", "duration_ms"])
      const [, status, duration] = lines[0]!.annotations
      expect(status![1]).toBe(200)
      expect(typeof duration![1]).toBe("number")
      expect(duration![1]).toBeGreaterThanOrEqual(0)
    }))

  it.scoped("carries request_id on the request's other lines too, and status and duration_ms only on its own", () =>
    Effect.gen(function*() {
      const server = yield* serverWithOwnLogger
      const created = yield* server.send("/v1/workflows", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ title: "Corrupted" })
      }).pipe(Effect.map(({ body }) => JSON.parse(body) as { readonly id: string }))
      yield* Effect.orDie(server.sql`UPDATE workflows SET status = ${"bogus"} WHERE id = ${created.id}`)
      const response = yield* server.send(`/v1/workflows/${created.id}`, {
        headers: { "x-request-id": "own-logger-2" }
      })
      expect(response.status).toBe(500)
      const lines = server.linesOf("own-logger-2")
      expect(lines.map(({ level, message }) => [level, message])).toEqual([
        ["ERROR", ["request failed with a defect"]],
        ["INFO", [`GET /v1/workflows/${created.id} 500`]]
      ])
      expect(lines[0]).toMatchObject({ hasCause: true, annotations: [["request_id", "own-logger-2"]] })
      expect(lines[1]!.annotations.slice(0, 2)).toEqual([["request_id", "own-logger-2"], ["status", 500]])
    }))
})
