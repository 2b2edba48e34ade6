import { SqlClient } from "@effect/sql"
import { type OrganizationId, type Workflow, WorkflowJson } from "@workflows/domain"
import { DateTime, Duration, Effect, Option, Schema } from "effect"
import { createHash } from "node:crypto"

export const RETENTION = Duration.hours(24)

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
 * Reads and writes happen inside the create transaction, so two retries racing each other
 * cannot both create a workflow.
 */
export class IdempotencyKeys extends Effect.Service<IdempotencyKeys>()("@workflows/IdempotencyKeys", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const response = Schema.parseJson(WorkflowJson)
    const decodeResponse = Schema.decodeUnknown(response)
    const encodeResponse = Schema.encode(response)
    const cutoff = Effect.map(DateTime.now, (now) => DateTime.formatIso(DateTime.subtractDuration(now, RETENTION)))

    const find = (organization: OrganizationId, key: string) =>
      Effect.gen(function* () {
        const oldest = yield* cutoff
        // Expired entries are dropped when their key comes back, so the table only holds live ones and strays.
        yield* sql`DELETE FROM idempotency_keys WHERE organization_id = ${organization} AND key = ${key} AND created_at < ${oldest}`
        const rows = yield* sql<{ request_hash: string; response: string }>`SELECT request_hash, response
          FROM idempotency_keys WHERE organization_id = ${organization} AND key = ${key}`
        return yield* Option.match(Option.fromNullable(rows[0]), {
          onNone: () => Effect.succeed(Option.none<Remembered>()),
          onSome: (row) =>
            Effect.map(decodeResponse(row.response), (workflow) => Option.some({ request_hash: row.request_hash, workflow }))
        })
      }).pipe(Effect.orDie)

    const remember = (organization: OrganizationId, key: string, hash: string, workflow: Workflow) =>
      Effect.gen(function* () {
        const created_at = DateTime.formatIso(yield* DateTime.now)
        const body = yield* encodeResponse(workflow)
        yield* sql`INSERT INTO idempotency_keys ${sql.insert({
          organization_id: organization,
          key,
          request_hash: hash,
          workflow_id: workflow.id,
          response: body,
          created_at
        })}`
      }).pipe(Effect.orDie)

    return { find, remember } as const
  })
}) {}
