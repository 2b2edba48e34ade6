import * as HttpServer from "@effect/platform/HttpServer"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { OrganizationId } from "@workflows/domain"
import { ApiKeys, HttpAppLive, NodeServerLive, Sql, type TracingOptions, WorkflowStore } from "@workflows/http"
import { Cause, Duration, Effect, Layer, Logger, Option } from "effect"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { databases } from "./databases.js"

/** What a logger of the library user's own receives, kept structured. */
interface Entry {
  readonly level: string
  readonly message: unknown
  readonly hasCause: boolean
  readonly annotations: ReadonlyArray<readonly [string, unknown]>
}

/** `HttpAppLive` on a real port, logging to a logger installed by the test as a library user would. */
const serverWithOwnLogger = (traced: boolean) =>
  Effect.gen(function*() {
    const tracing = traced ? Option.some(tracedTo(yield* collector)) : Option.none()
    const entries: Array<Entry> = []
    const own = Logger.make(({ annotations, cause, logLevel, message }) => {
      entries.push({ level: logLevel.label, message, hasCause: !Cause.isEmpty(cause), annotations: [...annotations] })
    })
    const database = yield* databases[0]!.fresh
    const context = yield* Layer.build(
      HttpAppLive(database, tracing).pipe(
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
        entries.filter((entry) =>
          entry.annotations.some(([name, value]) => name === "request_id" && value === requestId)
        )
      return { send, sql, linesOf }
    }).pipe(Effect.provide(context))
  })

/** Tracing on (the platform's server serves the request), exporting to a collector that takes everything. */
const collector = Effect.acquireRelease(
  Effect.async<Server>((resume) => {
    const server = createServer((request, response) => {
      request.resume()
      request.on("end", () => response.writeHead(200, { "content-type": "application/json" }).end("{}"))
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) =>
    Effect.async<void>((resume) => {
      server.close(() => resume(Effect.void))
    })
)

const tracedTo = (server: Server): TracingOptions => ({
  url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
  protocol: "http/json",
  headers: {},
  serviceName: "workflows-test",
  resourceAttributes: {},
  exportInterval: Duration.millis(50)
})

describe.each([["tracing off", false], ["tracing on", true]] as const)(
  "the request log line, seen by a logger of the library user's own (%s)",
  (_, traced) => {
    it.scoped("is an INFO line whose annotations are request_id, status and duration_ms, in that order", () =>
      Effect.gen(function*() {
        const server = yield* serverWithOwnLogger(traced)
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
        const server = yield* serverWithOwnLogger(traced)
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
  }
)
