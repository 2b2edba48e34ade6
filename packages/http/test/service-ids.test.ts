import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { newEventId, OrganizationId } from "@workflows/domain"
import { ApiKeys, pooledRandomBytes, Sql } from "@workflows/http"
import { Effect, Layer, ManagedRuntime, Random } from "effect"
import { serviceLayer } from "./databases.js"
import { apiFor } from "./support.js"

/**
 * Ids are primary keys: two processes that draw the same ids make the second insert a 500.
 * Effect's default `Random` seeds itself with a 32-bit hash of `Math.random()`, so about one
 * pair of process starts in 2^32 runs the very same stream. Each runtime here gets an identical
 * `Random` (that unlucky pair, made certain): the ids must not come from it.
 */
const firstIds = Effect.gen(function*() {
  const api = yield* apiFor()
  const workflow = yield* api.create({ title: "First" })
  const sql = yield* SqlClient.SqlClient
  const events = yield* Effect.orDie(
    sql<{ id: string }>`SELECT id FROM workflow_events WHERE workflow_id = ${workflow.id}`
  )
  const key = yield* Effect.flatMap(ApiKeys, (keys) => keys.create(OrganizationId.make("org_ids"), "first"))
  return { workflow: workflow.id, event: events[0]!.id, key: key.id, secret: key.key }
})

const runtimeWithSameRandom = () =>
  ManagedRuntime.make(
    serviceLayer(Sql.Database.Sqlite({ filename: ":memory:" })).pipe(
      Layer.provideMerge(Layer.setRandom(Random.make("same seed")))
    )
  )

describe("ids", () => {
  it.live("two runtimes built independently, with the same Effect Random, draw different first ids", () =>
    Effect.gen(function*() {
      const [a, b] = [runtimeWithSameRandom(), runtimeWithSameRandom()]
      const first = yield* Effect.promise(() => a.runPromise(firstIds))
      const second = yield* Effect.promise(() => b.runPromise(firstIds))
      yield* Effect.promise(() => Promise.all([a.dispose(), b.dispose()]))
      for (const ids of [first, second]) {
        expect(ids.workflow).toMatch(/^wfl_[0-9a-z]{12}$/)
        expect(ids.event).toMatch(/^evt_[0-9a-z]{16}$/)
        expect(ids.key).toMatch(/^key_[0-9a-z]{16}$/)
        expect(ids.secret).toMatch(/^wfk_[0-9A-Za-z]{32}$/)
      }
      expect(second.workflow).not.toBe(first.workflow)
      expect(second.event).not.toBe(first.event)
      expect(second.key).not.toBe(first.key)
    }))
})

describe("pooled random bytes", () => {
  it("hands out bytes no other call got, across refills of the pool and past its size", () => {
    const draw = pooledRandomBytes()
    // Copied at once: a draw is only valid until the next call.
    const draws = [...Array.from({ length: 300 }, () => Uint8Array.from(draw(16))), Uint8Array.from(draw(10_000))]
    expect(draws.at(-1)).toHaveLength(10_000)
    // 16 random bytes repeat with probability ~2^-128: a repeat means a pool handed out twice.
    const seen = new Set(draws.slice(0, -1).map((bytes) => Buffer.from(bytes).toString("hex")))
    expect(seen.size).toBe(300)
    const ids = new Set(Array.from({ length: 2_000 }, () => newEventId(draw)))
    expect(ids.size).toBe(2_000)
  })
})
