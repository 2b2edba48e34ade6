import { SqlClient } from "@effect/sql"
import { ApiKeyId, OrganizationId, type Principal, Unauthorized } from "@workflows/domain"
import { DateTime, Effect, Option, Schema } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { Ids } from "./Ids.js"
import { lockName, makeWriteTransaction } from "./Sql.js"
import * as SqliteConnection from "./SqliteConnection.js"

// Key ids and the caller behind a key are the domain's, so the HTTP contract needs no storage module.
export { ApiKeyId, type Principal } from "@workflows/domain"

/** What anyone may see of a key: never the secret, which exists only in the create response. */
export class ApiKey extends Schema.Class<ApiKey>("ApiKey")({
  id: ApiKeyId,
  organization_id: OrganizationId,
  name: Schema.String,
  created_at: Schema.String,
  revoked_at: Schema.NullOr(Schema.String)
}) {}

export interface CreatedApiKey {
  readonly id: ApiKeyId
  readonly organization_id: OrganizationId
  readonly name: string
  readonly key: string
  readonly created_at: string
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
const SECRET_LENGTH = 32 // 32 × log2(62) ≈ 190 bits, well above the 128 the contract asks for

/** Uniform base-62 from crypto bytes: bytes ≥ 248 are skipped so no character is favoured. */
const randomBase62 = (length: number): string => {
  let out = ""
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62]
    }
  }
  return out
}

// Keys carry ≥ 128 random bits, so a fast hash is enough: there is nothing to brute-force.
const hashOf = (secret: string): string => createHash("sha256").update(secret).digest("hex")

const KEY_FORMAT = /^wfk_[0-9A-Za-z]{22,128}$/

interface KeyRow {
  readonly id: ApiKeyId
  readonly organization_id: OrganizationId
}

const SQLITE_LOOKUP = "SELECT id, organization_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL"

export const DEFAULT_ORGANIZATION = OrganizationId.make("org_default")

export class ApiKeys extends Effect.Service<ApiKeys>()("@workflows/ApiKeys", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const ids = yield* Ids
    const writeTransaction = makeWriteTransaction(sql)
    const decodeKeys = Schema.decodeUnknown(Schema.Array(ApiKey))
    const nowIso = Effect.map(DateTime.now, DateTime.formatIso)

    const ensureOrganization = (organization: OrganizationId) =>
      Effect.flatMap(
        nowIso,
        (now) =>
          sql`INSERT INTO organizations (id, created_at) VALUES (${organization}, ${now}) ON CONFLICT (id) DO NOTHING`
      )

    const insertKey = (organization: OrganizationId, name: string) =>
      Effect.gen(function*() {
        const id = ApiKeyId.make(`key_${yield* ids.base36(16)}`)
        const key = `wfk_${randomBase62(SECRET_LENGTH)}`
        const created_at = yield* nowIso
        yield* ensureOrganization(organization)
        yield* sql`INSERT INTO api_keys ${
          sql.insert({ id, organization_id: organization, name, hash: hashOf(key), created_at })
        }`
        return { id, organization_id: organization, name, key, created_at } satisfies CreatedApiKey
      })

    /** A new key for `organization` (created if new); the plaintext is returned here and nowhere else. */
    const create = (organization: OrganizationId, name: string) =>
      writeTransaction(insertKey(organization, name)).pipe(Effect.orDie)

    const list = (organization?: OrganizationId) =>
      (organization === undefined
        ? sql`SELECT id, organization_id, name, created_at, revoked_at FROM api_keys ORDER BY created_at, id`
        : sql`SELECT id, organization_id, name, created_at, revoked_at FROM api_keys
              WHERE organization_id = ${organization} ORDER BY created_at, id`).pipe(
          Effect.flatMap(decodeKeys),
          Effect.orDie
        )

    /** `true` when a live key was revoked now; revoking twice or an unknown id changes nothing. */
    const revoke = (id: string) =>
      Effect.flatMap(
        nowIso,
        (now) =>
          writeTransaction(
            sql`UPDATE api_keys SET revoked_at = ${now} WHERE id = ${id} AND revoked_at IS NULL RETURNING id`
          )
      ).pipe(Effect.map((rows) => rows.length > 0), Effect.orDie)

    const unknownKey = () => Effect.fail(new Unauthorized({ reason: "The API key is unknown or revoked." }))
    const principalOf = (row: KeyRow | undefined): Effect.Effect<Principal, Unauthorized> =>
      row === undefined ? unknownKey() : Effect.succeed({ organization_id: row.organization_id, key_id: row.id })
    // Every request looks its key up: on our SQLite connection that is one prepared statement, run
    // in one step (docs/DECISIONS.md); with a tracer enabled, or on PostgreSQL, it goes through `sql`.
    const lookup = (hash: string) =>
      sql<KeyRow>`SELECT id, organization_id FROM api_keys
            WHERE hash = ${hash} AND revoked_at IS NULL`.pipe(Effect.flatMap((rows) => principalOf(rows[0])))
    const sqlite = SqliteConnection.fromClient(sql)
    const find = sqlite === undefined
      ? lookup
      : (hash: string) =>
        sqlite.runUntraced(
          (connection) => principalOf(connection.prepare(SQLITE_LOOKUP).get(hash) as KeyRow | undefined),
          () => lookup(hash)
        )

    const authenticate = (secret: string): Effect.Effect<Principal, Unauthorized> =>
      KEY_FORMAT.test(secret)
        ? Effect.catchTag(find(hashOf(secret)), "SqlError", Effect.die)
        : Effect.fail(new Unauthorized({ reason: "The API key is malformed." }))

    /**
     * First start on an empty database: one organization and one key, so the server is usable
     * at once. `None` when any key exists already (the operator has set things up).
     */
    const bootstrap = writeTransaction(
      Effect.gen(function*() {
        // Instances starting together on one PostgreSQL database must bootstrap once, not once each.
        yield* lockName(sql, "bootstrap")
        const existing = yield* sql`SELECT id FROM api_keys LIMIT 1`
        if (existing.length > 0) return Option.none<CreatedApiKey>()
        return Option.some(yield* insertKey(DEFAULT_ORGANIZATION, "bootstrap"))
      })
    ).pipe(Effect.orDie)

    return { create, list, revoke, authenticate, bootstrap } as const
  }),
  dependencies: [Ids.Default]
}) {}
