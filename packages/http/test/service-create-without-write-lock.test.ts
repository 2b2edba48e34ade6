import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Sql } from "@workflows/http"
import { Context, Deferred, Effect, Fiber, Layer } from "effect"
import { databases, serviceLayer } from "./databases.js"
import { apiFor, snapshot } from "./support.js"

/**
 * A create whose body is invalid must not wait for, nor take, SQLite's write lock: while another
 * connection holds it (a second process writing), the 400 comes at once, and a remembered
 * `Idempotency-Key` still answers first (its replay or 422), exactly as without the lock.
 */
const sqlite = databases.find((db) => db.name === "sqlite")!

describe("an invalid create and the SQLite write lock", () => {
  it.live(
    "while another connection holds the write lock, invalid creates answer 400 (or 422 for a reused key) and write nothing",
    () =>
      Effect.scoped(
        Effect.gen(function*() {
          const database = yield* sqlite.fresh
          const context = yield* Layer.build(serviceLayer(database))
          const api = yield* Effect.provide(apiFor(), context)
          const remembered = yield* api.create({ title: "Remembered" }, { idempotency_key: "key-1" })

          // A second connection on the same file takes the write lock and keeps it until released.
          const other = Context.get(yield* Layer.build(Sql.layer(database).pipe(Layer.orDie)), SqlClient.SqlClient)
          const locked = yield* Deferred.make<void>()
          const release = yield* Deferred.make<void>()
          const holder = yield* Sql.makeWriteTransaction(other)(
            Effect.zipRight(Deferred.succeed(locked, undefined), Deferred.await(release))
          ).pipe(Effect.forkScoped)
          yield* Deferred.await(locked)

          const before = yield* Effect.provide(snapshot, context)
          const invalid = yield* Effect.flip(api.create({ title: "" }))
          const invalidWithKey = yield* Effect.flip(api.create({ bogus: 1 }, { idempotency_key: "key-2" }))
          const reused = yield* Effect.flip(api.create({ title: "" }, { idempotency_key: "key-1" }))
          const after = yield* Effect.provide(snapshot, context)
          // All answered while the lock is held (it is released only below): none of them needed it.
          expect(invalid._tag).toBe("WorkflowValidationError")
          expect(invalidWithKey._tag).toBe("WorkflowValidationError")
          expect(reused._tag).toBe("IdempotencyKeyReused")
          expect(after).toEqual(before)

          yield* Deferred.succeed(release, undefined)
          yield* Fiber.join(holder)
          // The remembered key still replays once the lock is free.
          expect((yield* api.create({ title: "Remembered" }, { idempotency_key: "key-1" })).id).toBe(remembered.id)
        })
      ),
    30_000
  )
})
