import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import type { Actor } from "@workflows/domain"
import { Cause, Effect, Exit } from "effect"
import { databases, withService } from "./databases.js"
import { apiFor, freshId, insertWorkflow, ORG_A, rowOf, snapshot } from "./support.js"

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

/** Event rows that break the rules: reading the trail dies rather than answering part of it or a wrong value. */
const eventCorruptions: ReadonlyArray<readonly [string, string]> = [
  ["an actor that is no JSON", "actor = 'api_key'"],
  ["an actor of no known type", `actor = '{"type":"robot"}'`],
  ["a key actor without its id", `actor = '{"type":"api_key"}'`],
  ["a change whose value is a number", `changes = '{"title":{"from":1,"to":"b"}}'`],
  ["changes that are a list", `changes = '[]'`],
  ["an unknown event type", "type = 'workflow.deleted'"],
  ["a timestamp that is no date", "created_at = 'yesterday'"]
]

for (const db of databases) {
  describe.concurrent(`${db.name}: events`, () => {
    for (const [what, assignment] of eventCorruptions) {
      it.live(`an event row with ${what}: reading the trail dies`, () =>
        withService(db)(
          Effect.gen(function*() {
            const sql = yield* SqlClient.SqlClient
            const api = yield* apiFor(ORG_A)
            const { id } = yield* api.create({ title: "Audited" })
            yield* api.update(id, { title: "Audited twice" })
            yield* Effect.orDie(
              sql`UPDATE workflow_events SET ${sql.literal(assignment)}
                WHERE workflow_id = ${id} AND type = 'workflow.created'`
            )
            const exit = yield* Effect.exit(api.events(id))
            expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
          })
        ))
    }

    // On SQLite with tracing off the new state and its event are written in one step: the event's
    // check comes after the row's UPDATE has run, which the transaction must undo.
    for (const tracing of [true, false]) {
      it.live(`an audit event that fails its check: the update and lifecycle calls die, and nothing is written (tracing ${tracing})`, () =>
        withService(db)(
          Effect.gen(function*() {
            const { id } = yield* (yield* apiFor(ORG_A)).create({ title: "Audited" })
            // A caller the service would not build: an actor of no known type, stored with each event.
            const broken = yield* apiFor(ORG_A, { actor: { type: "robot" } as unknown as Actor })
            const before = yield* snapshot
            const update = yield* Effect.exit(broken.update(id, { title: "Changed" }))
            const activate = yield* Effect.exit(broken.activate(id))
            for (const exit of [update, activate]) {
              expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
            }
            expect(yield* snapshot).toEqual(before)
          }).pipe(Effect.withTracerEnabled(tracing))
        ))
    }

    it.live("a stored actor and changes with more fields, in another order, read as the schema decodes them", () =>
      withService(db)(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const api = yield* apiFor(ORG_A)
          const { id } = yield* api.create({ title: "Legacy" })
          yield* Effect.orDie(
            sql`UPDATE workflow_events SET actor = ${`{"id":"key_legacy01","note":"x","type":"api_key"}`},
              changes = ${`{"title":{"to":"Legacy","extra":1,"from":null}}`} WHERE workflow_id = ${id}`
          )
          const [event] = (yield* api.events(id)).data
          expect(JSON.stringify(event!.actor)).toBe(`{"type":"api_key","id":"key_legacy01"}`)
          expect(JSON.stringify(event!.changes)).toBe(`{"title":{"from":null,"to":"Legacy"}}`)
        })
      ))
  })
}
