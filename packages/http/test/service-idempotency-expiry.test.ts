import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { PURGE_BATCH } from "@workflows/http"
import { Duration, Effect, TestClock } from "effect"
import { databases, withService } from "./databases.js"
import { apiFor, countOf, ORG_A, ORG_B } from "./support.js"

/**
 * Idempotency records are kept 24 hours, then purged by later writes in bounded batches: the
 * table does not grow forever, and a fresh key still replays. Time is the test clock's.
 */
const keysStored = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* Effect.orDie(sql<{ key: string }>`SELECT key FROM idempotency_keys ORDER BY key`)
  return rows.map((row) => row.key)
})

const expiredCount = (cutoff: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* Effect.orDie(
      sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM idempotency_keys WHERE created_at < ${cutoff}`
    )
    return Number(rows[0]!.n)
  })

for (const db of databases) {
  describe(`${db.name}: idempotency records expire`, () => {
    it.effect("records older than 24 h disappear on a later keyed create, in every organization; fresh ones still replay", () =>
      withService(db)(
        Effect.gen(function*() {
          const alpha = yield* apiFor(ORG_A)
          const beta = yield* apiFor(ORG_B)
          yield* alpha.create({ title: "Old 1" }, { idempotency_key: "old-1" })
          yield* alpha.create({ title: "Old 2" }, { idempotency_key: "old-2" })
          yield* beta.create({ title: "Old B" }, { idempotency_key: "old-b" })
          yield* TestClock.adjust(Duration.hours(23))
          const fresh = yield* alpha.create({ title: "Fresh" }, { idempotency_key: "fresh" })
          yield* TestClock.adjust(Duration.hours(2)) // the old ones are 25 h old, "fresh" 2 h

          yield* beta.create({ title: "Trigger" }, { idempotency_key: "trigger" })
          expect(yield* keysStored).toEqual(["fresh", "trigger"])

          const workflows = yield* countOf("workflows")
          expect((yield* alpha.create({ title: "Fresh" }, { idempotency_key: "fresh" })).id).toBe(fresh.id)
          expect(yield* countOf("workflows"), "a replay creates nothing").toBe(workflows)
          // An expired key is new again: the same request creates a second workflow.
          const again = yield* alpha.create({ title: "Old 1" }, { idempotency_key: "old-1" })
          expect(yield* countOf("workflows")).toBe(workflows + 1)
          expect(again.title).toBe("Old 1")
        })
      ))

    it.effect(`one write removes at most ${PURGE_BATCH} expired records, oldest first; later writes remove the rest`, () =>
      withService(db)(
        Effect.gen(function*() {
          const api = yield* apiFor(ORG_A)
          const backlog = PURGE_BATCH * 2 + PURGE_BATCH / 2
          const template = yield* api.create({ title: "Template" })
          const sql = yield* SqlClient.SqlClient
          for (let i = 0; i < backlog; i++) {
            yield* Effect.orDie(sql`INSERT INTO idempotency_keys ${
              sql.insert({
                organization_id: ORG_A,
                key: `expired-${String(i).padStart(4, "0")}`,
                request_hash: "h",
                workflow_id: template.id,
                response: "{}",
                created_at: new Date(Date.UTC(1969, 11, 1) + i * 1000).toISOString()
              })
            }`)
          }
          const cutoff = "1970-01-01T00:00:00.000Z" // the test clock starts at the epoch; all of the above is older than 24 h
          expect(yield* expiredCount(cutoff)).toBe(backlog)

          yield* api.create({ title: "Write 1" }, { idempotency_key: "write-1" })
          expect(yield* expiredCount(cutoff)).toBe(backlog - PURGE_BATCH)
          const remaining = yield* keysStored
          expect(remaining).not.toContain("expired-0000") // the oldest went first
          expect(remaining).toContain(`expired-${String(backlog - 1).padStart(4, "0")}`)

          yield* api.create({ title: "Write 2" }, { idempotency_key: "write-2" })
          yield* api.create({ title: "Write 3" }, { idempotency_key: "write-3" })
          expect(yield* expiredCount(cutoff)).toBe(0)
          expect(yield* keysStored).toEqual(["write-1", "write-2", "write-3"])
        })
      ))
  })
}
