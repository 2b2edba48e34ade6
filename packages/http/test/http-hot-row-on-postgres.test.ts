import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Sql } from "@workflows/http"
import { Context, Deferred, Effect, Fiber, Layer, Schedule } from "effect"
import { databases } from "./databases.js"
import { call, type Reply } from "./fetch-support.js"
import { liveServer } from "./live-server.js"

/**
 * One hot row must not stall an instance: requests waiting on a row that an outside transaction
 * holds give up at the lock timeout, and requests that find every pooled connection busy give up
 * at the pool timeout, each with a 503 and `Retry-After` (the answer for "the database is busy,
 * retry"), while the rest of the instance goes on answering. The statement timeout is set far
 * beyond the test's patience: it must not be what ends the wait.
 */
const postgres = databases.find((db) => db.name === "postgres")

/** A client of its own on the server's database, open until the test's scope closes. */
const outsideClient = (database: Sql.Database) =>
  Effect.map(Layer.build(Sql.layer(database).pipe(Layer.orDie)), Context.get(SqlClient.SqlClient))

/** An outside transaction holding `id`'s row lock until `release` completes; `locked` once it holds it. */
const holdRow = (sql: SqlClient.SqlClient, id: string) =>
  Effect.gen(function*() {
    const locked = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    const fiber = yield* sql.withTransaction(
      Effect.zipRight(
        Effect.zipRight(sql`SELECT id FROM workflows WHERE id = ${id} FOR UPDATE`, Deferred.succeed(locked, undefined)),
        Deferred.await(release)
      )
    ).pipe(Effect.orDie, Effect.forkScoped)
    yield* Deferred.await(locked)
    return Effect.zipRight(Deferred.succeed(release, undefined), Fiber.join(fiber))
  })

/** Waits until `count` sessions of the server wait on a lock (seen from the outside client). */
const lockWaiters = (sql: SqlClient.SqlClient, count: number) =>
  sql<
    { n: string | number }
  >`SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = 'workflows' AND wait_event_type = 'Lock'`.pipe(
    Effect.orDie,
    Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (rows) => Number(rows[0]!.n) >= count }),
    Effect.timeout("20 seconds"),
    Effect.orDie
  )

const expectUnavailable = (reply: Reply) => {
  expect(reply.status, reply.text).toBe(503)
  expect(reply.headers.get("retry-after")).toBe("1")
  expect(reply.headers.get("content-type")).toContain("application/problem+json")
}

describe.skipIf(postgres === undefined)("a row held by an outside transaction (PostgreSQL)", () => {
  it.live(
    "writes waiting on it get 503 + Retry-After at the lock timeout; other requests answer meanwhile; nothing is written",
    () =>
      Effect.scoped(
        Effect.gen(function*() {
          const server = yield* liveServer(postgres!, {
            DATABASE_POOL_SIZE: "4",
            DATABASE_LOCK_TIMEOUT: "500 millis",
            DATABASE_STATEMENT_TIMEOUT: "120 seconds"
          })
          const outside = yield* outsideClient(server.database)
          const [hot, cold] = yield* Effect.promise(() =>
            Promise.all(["Hot", "Cold"].map((title) =>
              call(server.url, "POST", "/v1/workflows", { key: server.key, json: { title } })
            ))
          )
          const release = yield* holdRow(outside, hot!.body.id)

          const { blocked, unrelated } = yield* Effect.promise(async () => {
            // Twice the pool: without bounds, these alone would hold every connection.
            const blocked = Array.from({ length: 8 }, (_, i) =>
              call(server.url, "PATCH", `/v1/workflows/${hot!.body.id}`, {
                key: server.key,
                json: { title: `blocked ${i}` },
                timeoutMs: 30_000
              }))
            const unrelated = [
              ...Array.from({ length: 4 }, () =>
                call(server.url, "GET", `/v1/workflows/${cold!.body.id}`, { key: server.key, timeoutMs: 30_000 })),
              call(server.url, "PATCH", `/v1/workflows/${cold!.body.id}`, {
                key: server.key,
                json: { title: "Cold, edited" },
                timeoutMs: 30_000
              }),
              call(server.url, "GET", "/v1/workflows", { key: server.key, timeoutMs: 30_000 })
            ]
            return { unrelated: await Promise.all(unrelated), blocked: await Promise.all(blocked) }
          })
          // Both answered while the row is still held (it is released only below).
          for (const reply of unrelated) {
            expect(reply.status, reply.text).toBe(200)
          }
          for (const reply of blocked) {
            expectUnavailable(reply)
          }
          // Logged as the database being busy (WARN), not as a server bug (ERROR).
          const logs = server.logs()
          expect(logs.filter((line) =>
            line.includes("level=ERROR")
          )).toEqual([])
          expect(logs.filter((line) =>
            line.includes("level=WARN") && line.includes("lock timeout")
          )).toHaveLength(
            blocked.length
          )

          yield* release
          const after = yield* Effect.promise(() =>
            call(server.url, "GET", `/v1/workflows/${hot!.body.id}`, { key: server.key })
          )
          expect(after.body).toMatchObject({ title: "Hot", version: 1 })
          const events = yield* Effect.promise(() =>
            call(server.url, "GET", `/v1/workflows/${hot!.body.id}/events`, { key: server.key })
          )
          expect(events.body.data.map((event: { type: string }) =>
            event.type
          )).toEqual(["workflow.created"])
        })
      ),
    60_000
  )

  it.live(
    "a request that finds every connection taken by a waiter gets 503 + Retry-After at the pool timeout; the waiter lands once the row is free",
    () =>
      Effect.scoped(
        Effect.gen(function*() {
          const server = yield* liveServer(postgres!, {
            DATABASE_POOL_SIZE: "1",
            DATABASE_LOCK_TIMEOUT: "120 seconds",
            DATABASE_POOL_TIMEOUT: "300 millis",
            DATABASE_STATEMENT_TIMEOUT: "120 seconds"
          })
          const outside = yield* outsideClient(server.database)
          const hot = yield* Effect.promise(() =>
            call(server.url, "POST", "/v1/workflows", { key: server.key, json: { title: "Hot" } })
          )
          const release = yield* holdRow(outside, hot.body.id)

          const waiter = call(server.url, "PATCH", `/v1/workflows/${hot.body.id}`, {
            key: server.key,
            json: { title: "Waited" },
            timeoutMs: 30_000
          })
          yield* lockWaiters(outside, 1)
          const starved = yield* Effect.promise(() =>
            call(server.url, "GET", `/v1/workflows/${hot.body.id}`, { key: server.key, timeoutMs: 30_000 })
          )
          expectUnavailable(starved)
          expect(server.logs().filter((line) => line.includes("level=ERROR"))).toEqual([])

          yield* release
          const landed = yield* Effect.promise(() => waiter)
          expect(landed.status, landed.text).toBe(200)
          expect(landed.body).toMatchObject({ title: "Waited", version: 2 })
        })
      ),
    60_000
  )
})
