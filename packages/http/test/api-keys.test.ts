import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ApiKeys, DEFAULT_ORGANIZATION } from "@workflows/http"
import { Effect, Option } from "effect"
import { createHash } from "node:crypto"
import { databases, withService } from "./databases.js"
import { countOf, ORG_A, ORG_B } from "./support.js"

/** docs/CONTRACT.md §7: keys are `wfk_` + ≥ 22 base-62 characters, shown once, stored only as a hash, revocable. */
const KEY_FORMAT = /^wfk_[0-9A-Za-z]{22,}$/

/** Every stored value of every api_keys row, as one string to search for leaked secrets. */
const apiKeysTableText = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* Effect.orDie(sql`SELECT * FROM api_keys`)
  return JSON.stringify(rows)
})

for (const db of databases) {
  describe.concurrent(db.name, () => {
    it.live("create returns a wfk_ key shown once; the table holds only its hash", () =>
      withService(db)(
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const created = yield* keys.create(ORG_A, "ci")
          expect(created.key).toMatch(KEY_FORMAT)
          expect(created.id).toMatch(/^key_[a-z0-9]+$/)
          expect(created).toEqual(expect.objectContaining({ organization_id: ORG_A, name: "ci" }))
          const other = yield* keys.create(ORG_A, "ci")
          expect(other.key).not.toBe(created.key)
          expect(other.id).not.toBe(created.id)

          const text = yield* apiKeysTableText
          const secret = created.key.slice("wfk_".length)
          expect(text).not.toContain(created.key)
          expect(text).not.toContain(secret)
          expect(text).not.toContain(secret.slice(0, 16))
          // what is stored is a one-way digest (not, say, base64 of the key)
          const sql = yield* SqlClient.SqlClient
          const rows = yield* Effect.orDie(
            sql<{ id: string; hash: string }>`SELECT id, hash FROM api_keys WHERE id = ${created.id}`
          )
          expect(rows).toHaveLength(1)
          expect(rows[0]!.hash).toBe(createHash("sha256").update(created.key).digest("hex"))
          expect(Buffer.from(rows[0]!.hash, "hex").toString("latin1")).not.toContain(secret.slice(0, 8))
          expect(yield* countOf("organizations")).toBe(1)
        })
      ))

    it.live("authenticate: a live key names its organization and key id; anything else is Unauthorized", () =>
      withService(db)(
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const a = yield* keys.create(ORG_A, "alpha")
          const b = yield* keys.create(ORG_B, "beta")
          expect(yield* keys.authenticate(a.key)).toEqual({ organization_id: ORG_A, key_id: a.id })
          expect(yield* keys.authenticate(b.key)).toEqual({ organization_id: ORG_B, key_id: b.id })
          const forged = `wfk_${"A".repeat(32)}`
          const flipped = a.key.slice(0, -1) + (a.key.endsWith("a") ? "b" : "a")
          for (
            const candidate of [
              forged,
              flipped,
              a.key.slice(4),
              `${a.key} `,
              "",
              "wfk_short",
              a.id,
              a.key.toUpperCase()
            ]
          ) {
            const error = yield* Effect.flip(keys.authenticate(candidate))
            expect(error._tag, candidate).toBe("Unauthorized")
          }
        })
      ))

    it.live("revoke makes authenticate fail at once, only for that key; revoking twice reports false", () =>
      withService(db)(
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const doomed = yield* keys.create(ORG_A, "doomed")
          const kept = yield* keys.create(ORG_A, "kept")
          yield* keys.authenticate(doomed.key)
          expect(yield* keys.revoke(doomed.id)).toBe(true)
          expect((yield* Effect.flip(keys.authenticate(doomed.key)))._tag).toBe("Unauthorized")
          expect(yield* keys.authenticate(kept.key)).toEqual({ organization_id: ORG_A, key_id: kept.id })
          expect(yield* keys.revoke(doomed.id)).toBe(false)
          expect(yield* keys.revoke("key_doesnotexist")).toBe(false)
          expect((yield* Effect.flip(keys.authenticate(doomed.key)))._tag).toBe("Unauthorized")
          const listed = yield* keys.list(ORG_A)
          const revoked = listed.find((k) => k.id === doomed.id)!
          expect(revoked.revoked_at).not.toBeNull()
          expect(Date.parse(revoked.revoked_at!)).not.toBeNaN()
          expect(listed.find((k) => k.id === kept.id)!.revoked_at).toBeNull()
        })
      ))

    it.live("list shows ids, names and dates, per organization or all, never a secret or a hash", () =>
      withService(db)(
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const a1 = yield* keys.create(ORG_A, "first")
          const a2 = yield* keys.create(ORG_A, "second")
          const b1 = yield* keys.create(ORG_B, "other org")
          const all = yield* keys.list()
          expect(all.map((k) => k.id).sort()).toEqual([a1.id, a2.id, b1.id].sort())
          expect((yield* keys.list(ORG_A)).map((k) => k.id).sort()).toEqual([a1.id, a2.id].sort())
          expect((yield* keys.list(ORG_B)).map((k) => [k.id, k.name, k.organization_id])).toEqual([[
            b1.id,
            "other org",
            ORG_B
          ]])
          const text = JSON.stringify(all)
          for (const created of [a1, a2, b1]) {
            expect(text).not.toContain(created.key)
            expect(text).not.toContain(created.key.slice(4))
            expect(text).not.toContain(createHash("sha256").update(created.key).digest("hex"))
          }
          for (const key of all) {
            expect(Object.keys(key).sort()).toEqual(["created_at", "id", "name", "organization_id", "revoked_at"])
          }
        })
      ))

    it.live("bootstrap: org_default and one working key on an empty database, then None", () =>
      withService(db)(
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const first = yield* keys.bootstrap
          expect(Option.isSome(first)).toBe(true)
          const created = Option.getOrThrow(first)
          expect(created.organization_id).toBe(DEFAULT_ORGANIZATION)
          expect(DEFAULT_ORGANIZATION).toBe("org_default")
          expect(created.key).toMatch(KEY_FORMAT)
          expect(yield* keys.authenticate(created.key)).toEqual({ organization_id: "org_default", key_id: created.id })
          expect(yield* apiKeysTableText).not.toContain(created.key)
          expect(Option.isNone(yield* keys.bootstrap)).toBe(true)
          expect(yield* countOf("api_keys")).toBe(1)
          const sql = yield* SqlClient.SqlClient
          expect(yield* Effect.orDie(sql<{ id: string }>`SELECT id FROM organizations`)).toEqual([{
            id: "org_default"
          }])
        })
      ))

    it.live("bootstrap does nothing once any key exists, even a revoked one of another organization", () =>
      withService(db)(
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const existing = yield* keys.create(ORG_A, "operator")
          yield* keys.revoke(existing.id)
          expect(Option.isNone(yield* keys.bootstrap)).toBe(true)
          expect(yield* countOf("api_keys")).toBe(1)
          const sql = yield* SqlClient.SqlClient
          expect(yield* Effect.orDie(sql`SELECT id FROM organizations WHERE id = 'org_default'`)).toHaveLength(0)
        })
      ))
  })
}
