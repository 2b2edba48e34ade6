import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Sql } from "@workflows/http"
import { Context, Deferred, Effect, Exit, Fiber, Layer } from "effect"
import { databases, serviceLayer, withService } from "./databases.js"
import { apiFor, freshId, insertWorkflow, rowOf } from "./support.js"

/**
 * One SQLite connection serves every fiber, so the storage layer keeps a write transaction's
 * uncommitted work away from statements outside it: those wait for it to end. PostgreSQL gives
 * each its own connection; the same outcomes hold there.
 */
for (const db of databases) {
  describe.concurrent(db.name, () => {
    it.live("reads outside a write transaction never see its uncommitted change, which it then rolls back", () =>
      withService(db)(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const api = yield* apiFor()
          const { id } = yield* insertWorkflow({ id: freshId(), title: "Before" })
          const changed = yield* Deferred.make<void>()
          const release = yield* Deferred.make<void>()

          const writer = yield* Sql.makeWriteTransaction(sql)(
            Effect.gen(function*() {
              yield* Effect.orDie(sql`UPDATE workflows SET title = 'During' WHERE id = ${id}`)
              yield* Deferred.succeed(changed, undefined)
              yield* Deferred.await(release)
              return yield* Effect.fail("abandoned" as const)
            })
          ).pipe(Effect.fork)
          yield* Deferred.await(changed)

          const readers = yield* Effect.all([
            Effect.map(api.get(id), (workflow) => workflow.title),
            Effect.map(
              Effect.orDie(sql<{ title: string }>`SELECT title FROM workflows WHERE id = ${id}`),
              (rows) => rows[0]!.title
            )
          ], { concurrency: "unbounded" }).pipe(Effect.fork)
          // Time for the readers to run, were they not held back until the transaction ends.
          yield* Effect.sleep("50 millis")
          yield* Deferred.succeed(release, undefined)

          expect(yield* Fiber.await(writer)).toEqual(Exit.fail("abandoned"))
          expect(yield* Fiber.join(readers)).toEqual(["Before", "Before"])
          expect((yield* rowOf(id)).title).toBe("Before")
        })
      ))
  })
}

const sqlite = databases.find((db) => db.name === "sqlite")!

describe("the SQLite connection's lock", () => {
  it.live("a write transaction interrupted while it waits for the lock writes nothing and leaves it usable", () =>
    withService(sqlite)(
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const writeTransaction = Sql.makeWriteTransaction(sql)
        const { id } = yield* insertWorkflow({ id: freshId(), title: "Before" })
        const holding = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const setTitle = (title: string) => Effect.orDie(sql`UPDATE workflows SET title = ${title} WHERE id = ${id}`)

        const holder = yield* writeTransaction(
          Effect.zipRight(Deferred.succeed(holding, undefined), Deferred.await(release))
        ).pipe(Effect.fork)
        yield* Deferred.await(holding)
        const waiting = yield* writeTransaction(setTitle("Interrupted")).pipe(Effect.fork)
        yield* Effect.sleep("20 millis")
        yield* Fiber.interrupt(waiting)
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holder)

        yield* writeTransaction(setTitle("After"))
        expect((yield* rowOf(id)).title).toBe("After")
        // And statements outside transactions still run.
        expect(yield* Effect.orDie(sql<{ n: number }>`SELECT 1 AS n`)).toEqual([{ n: 1 }])
      })
    ))
})

describe("a write transaction waiting for another connection's write lock", () => {
  it.live("can be interrupted while it waits, and then writes nothing", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const database = yield* sqlite.fresh
        const context = yield* Layer.build(serviceLayer(database))
        const sql = Context.get(context, SqlClient.SqlClient)
        const { id } = yield* Effect.provide(insertWorkflow({ id: freshId(), title: "Before" }), context)

        // A second connection on the same file (as another process would) takes SQLite's write lock.
        const other = Context.get(yield* Layer.build(Sql.layer(database).pipe(Layer.orDie)), SqlClient.SqlClient)
        const holding = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const holder = yield* Sql.makeWriteTransaction(other)(
          Effect.zipRight(Deferred.succeed(holding, undefined), Deferred.await(release))
        ).pipe(Effect.fork)
        yield* Deferred.await(holding)

        const waiting = yield* Sql.makeWriteTransaction(sql)(
          Effect.orDie(sql`UPDATE workflows SET title = 'Waited' WHERE id = ${id}`)
        ).pipe(Effect.fork)
        // Long enough for BEGIN IMMEDIATE to find the lock held and the retries to start.
        yield* Effect.sleep("200 millis")
        // The lock is freed soon after the interruption is sent: a wait that ignored it would then write.
        yield* Fiber.interruptFork(waiting)
        yield* Effect.sleep("50 millis")
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holder)
        const exit = yield* Fiber.await(waiting)

        expect(Exit.isInterrupted(exit)).toBe(true)
        expect((yield* Effect.provide(rowOf(id), context)).title).toBe("Before")
      })
    ), 30_000)
})
