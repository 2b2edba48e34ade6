import { SqlClient } from "@effect/sql"
import { type OrganizationId, type Workflow, WorkflowJson } from "@workflows/domain"
import { DateTime, Duration, Effect, Option, Schema } from "effect"
import { createHash } from "node:crypto"
import { executor } from "./Sql.js"

export const RETENTION = Duration.hours(24)

/** At most this many expired records are removed by one write. */
export const PURGE_BATCH = 100

/** Text already rendered, waiting on the work stack of `canonicalJson`. */
class Rendered {
  constructor(readonly text: string) {}
}

/**
 * Key order must not matter: the contract compares bodies as parsed JSON, not as bytes.
 * Iterative, not recursive: a body nested thousands of levels deep (it fits in 64 KiB) must not
 * overflow the stack (a 500). Same output as the obvious recursive version, so stored hashes still match.
 */
const canonicalJson = (root: unknown): string => {
  let out = ""
  const stack: Array<unknown> = [root]
  while (stack.length > 0) {
    const item = stack.pop()
    if (item instanceof Rendered) {
      out += item.text
    } else if (Array.isArray(item)) {
      stack.push(new Rendered("]"))
      for (let i = item.length - 1; i >= 0; i--) {
        stack.push(item[i])
        if (i > 0) stack.push(new Rendered(","))
      }
      stack.push(new Rendered("["))
    } else if (typeof item === "object" && item !== null) {
      const keys = Object.keys(item).sort()
      stack.push(new Rendered("}"))
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push((item as { readonly [k: string]: unknown })[keys[i]!])
        stack.push(new Rendered(`${i > 0 ? "," : ""}${JSON.stringify(keys[i])}:`))
      }
      stack.push(new Rendered("{"))
    } else {
      out += JSON.stringify(item) ?? "null"
    }
  }
  return out
}

export const requestHash = (body: unknown): string => createHash("sha256").update(canonicalJson(body)).digest("hex")

export type Remembered = { readonly request_hash: string; readonly workflow: Workflow }

/**
 * The first successful response to each `Idempotency-Key`, per organization, for 24 hours.
 * A create with a valid body reads and writes them inside its transaction, so two retries racing
 * each other cannot both create a workflow.
 */
export class IdempotencyKeys extends Effect.Service<IdempotencyKeys>()("@workflows/IdempotencyKeys", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const execute = executor(sql)
    const response = Schema.parseJson(WorkflowJson)
    const decodeResponse = Schema.decodeUnknown(response)
    const encodeResponse = Schema.encode(response)
    const cutoff = Effect.map(DateTime.now, (now) => DateTime.formatIso(DateTime.subtractDuration(now, RETENTION)))

    /** The live record of `key`; an expired one counts as none (it is replaced by `remember`). */
    // `fnUntraced`: one generator function for every call (one made per call costs V8 a new
    // prototype and hidden class each time).
    const find = Effect.fnUntraced(
      function*(organization: OrganizationId, key: string) {
        const oldest = yield* cutoff
        const rows = yield* execute(
          sql<{ request_hash: string; response: string }>`SELECT request_hash, response
          FROM idempotency_keys WHERE organization_id = ${organization} AND key = ${key} AND created_at >= ${oldest}`
        )
        return yield* Option.match(Option.fromNullable(rows[0]), {
          onNone: () => Effect.succeed(Option.none<Remembered>()),
          onSome: (row) =>
            Effect.map(
              decodeResponse(row.response),
              (workflow) => Option.some({ request_hash: row.request_hash, workflow })
            )
        })
      },
      Effect.orDie
    )

    // Concurrent writers on PostgreSQL each take rows the others have not locked, instead of waiting for them.
    const skipLocked = sql.onDialectOrElse({
      pg: () => sql.literal("FOR UPDATE SKIP LOCKED"),
      orElse: () => sql.literal("")
    })

    /**
     * Records are kept for their retention and no longer: each write that adds one removes up to
     * `PURGE_BATCH` expired ones, oldest first, so the table stays about one retention's worth
     * of keys, and a write never pays for a large backlog at once.
     */
    const purgeExpired = (oldest: string) =>
      execute(sql`DELETE FROM idempotency_keys WHERE (organization_id, key) IN (
        SELECT organization_id, key FROM idempotency_keys WHERE created_at < ${oldest}
        ORDER BY created_at LIMIT ${PURGE_BATCH} ${skipLocked})`)

    const remember = Effect.fnUntraced(
      function*(organization: OrganizationId, key: string, hash: string, workflow: Workflow) {
        const now = yield* DateTime.now
        const oldest = DateTime.formatIso(DateTime.subtractDuration(now, RETENTION))
        const body = yield* encodeResponse(workflow)
        // This key's own expired record, whatever the batch picked, makes way for the new one.
        yield* execute(
          sql`DELETE FROM idempotency_keys WHERE organization_id = ${organization} AND key = ${key} AND created_at < ${oldest}`
        )
        yield* purgeExpired(oldest)
        yield* execute(sql`INSERT INTO idempotency_keys ${
          sql.insert({
            organization_id: organization,
            key,
            request_hash: hash,
            workflow_id: workflow.id,
            response: body,
            created_at: DateTime.formatIso(now)
          })
        }`)
      },
      Effect.orDie
    )

    return { find, remember } as const
  })
}) {}
