import { describe, expect, it } from "@effect/vitest"
import { Sql } from "@workflows/http"
import { ConfigProvider, Effect, Either, Redacted } from "effect"

/** docs/CONTRACT.md §8: `DATABASE_URL` picks the store; nothing secret ever reaches a log line or /readyz. */
describe("DATABASE_URL", () => {
  it("unset or blank means the embedded SQLite file", () => {
    for (const raw of [undefined, "", "  "]) {
      expect(Sql.parseDatabaseUrl(raw)).toEqual(Either.right(Sql.Database.Sqlite({ filename: "./data/workflows.db" })))
    }
  })

  it("sqlite:PATH names a file; sqlite: alone is an error", () => {
    expect(Sql.parseDatabaseUrl("sqlite:/var/lib/workflows.db")).toEqual(Either.right(Sql.Database.Sqlite({ filename: "/var/lib/workflows.db" })))
    expect(Sql.parseDatabaseUrl("sqlite:./x.db")).toEqual(Either.right(Sql.Database.Sqlite({ filename: "./x.db" })))
    expect(Either.isLeft(Sql.parseDatabaseUrl("sqlite:"))).toBe(true)
  })

  it("postgres:// and postgresql:// choose PostgreSQL, and the description hides the password", () => {
    for (const scheme of ["postgres", "postgresql"]) {
      const parsed = Sql.parseDatabaseUrl(`${scheme}://app:s3cret-pw@db.internal:5432/workflows`)
      expect(Either.isRight(parsed)).toBe(true)
      const database = Either.getOrThrow(parsed)
      expect(database._tag).toBe("Postgres")
      const description = Sql.describeDatabase(database)
      expect(description).not.toContain("s3cret-pw")
      expect(description).toContain("db.internal:5432/workflows")
      if (database._tag === "Postgres") expect(Redacted.value(database.url)).toContain("s3cret-pw")
    }
  })

  it("any other scheme is a configuration error naming DATABASE_URL", () =>
    Effect.gen(function* () {
      const error = yield* Sql.DatabaseConfig.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", "mysql://db/workflows"]]))),
        Effect.flip
      )
      expect(String(error)).toContain("DATABASE_URL")
      expect(String(error)).toContain("sqlite:, postgres:// or postgresql://")
    }).pipe(Effect.runPromise))
})
