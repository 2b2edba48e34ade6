import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { databases, withService } from "./databases.js"
import { apiFor, freshId, insertWorkflow, ORG_A, rowOf } from "./support.js"

/**
 * A row that breaks the domain's rules (written by a bug or by hand) is a defect, a logged 500,
 * never a wrong answer nor a client error: reads and writes both refuse it, and nothing changes.
 */
const corruptions: ReadonlyArray<readonly [string, string]> = [
  ["an unknown status", "status = 'bogus'"],
  ["a version below 1", "version = 0"],
  ["a timestamp that is no date", "updated_at = 'yesterday'"]
]
// SQLite keeps whatever it is given, even text in an INTEGER column; PostgreSQL refuses it.
const sqliteOnly: ReadonlyArray<readonly [string, string]> = [["a count stored as text", "node_count = 'many'"]]

for (const db of databases) {
  describe.concurrent(db.name, () => {
    // With tracing off (as `workflows serve` runs) SQLite takes its prepared statements, else `@effect/sql`.
    for (
      const [[what, assignment], tracing] of (db.name === "sqlite" ? [...corruptions, ...sqliteOnly] : corruptions)
        .flatMap((c) => [[c, true], [c, false]] as const)
    ) {
      it.live(`a row with ${what}: get and update die, and the row is left as it was (tracing ${tracing})`, () =>
        withService(db)(
          Effect.gen(function*() {
            const sql = yield* SqlClient.SqlClient
            const api = yield* apiFor(ORG_A)
            const { id } = yield* insertWorkflow({ id: freshId() })
            yield* Effect.orDie(sql`UPDATE workflows SET ${sql.literal(assignment)} WHERE id = ${id}`)
            const before = yield* rowOf(id)

            const read = yield* Effect.exit(api.get(id))
            const write = yield* Effect.exit(api.update(id, { title: "Changed" }))
            for (const exit of [read, write]) {
              expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
            }
            expect(yield* rowOf(id)).toEqual(before)
          }).pipe(Effect.withTracerEnabled(tracing))
        ))
    }
  })
}
