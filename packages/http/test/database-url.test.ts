import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Sql } from "@workflows/http"
import { ConfigProvider, Duration, Effect, Either, Layer, Redacted } from "effect"
import { databases } from "./databases.js"

/** docs/CONTRACT.md §8: `DATABASE_URL` picks the store; nothing secret ever reaches a log line or /readyz. */
describe("DATABASE_URL", () => {
  it("unset or blank means the embedded SQLite file", () => {
    for (const raw of [undefined, "", "  "]) {
      expect(Sql.parseDatabaseUrl(raw)).toEqual(Either.right(Sql.Database.Sqlite({ filename: "./data/workflows.db" })))
    }
  })

  it("sqlite:PATH names a file; sqlite: alone is an error", () => {
    expect(Sql.parseDatabaseUrl("sqlite:/var/lib/workflows.db")).toEqual(
      Either.right(Sql.Database.Sqlite({ filename: "/var/lib/workflows.db" }))
    )
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
    Effect.gen(function*() {
      const error = yield* Sql.DatabaseConfig.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", "mysql://db/workflows"]]))),
        Effect.flip
      )
      expect(String(error)).toContain("DATABASE_URL")
      expect(String(error)).toContain("sqlite:, postgres:// or postgresql://")
    }).pipe(Effect.runPromise))

  it("PostgreSQL session settings are added to the URL's own `options`, which are kept", () => {
    const url = "postgres://app:pw@db.internal:5432/workflows?sslmode=disable&options=-c%20search_path%3Dtenant_a"
    const parsed = new URL(
      Sql.withSessionSettings(url, { statement_timeout: Duration.seconds(10), lock_timeout: Duration.seconds(2) })
    )
    expect(parsed.searchParams.get("options")).toBe(
      "-c search_path=tenant_a -c statement_timeout=10000 -c lock_timeout=2000"
    )
    expect(parsed.searchParams.get("sslmode")).toBe("disable")
    expect(parsed.password).toBe("pw")
    const bare = new URL(Sql.withSessionSettings("postgres://db/workflows", { statement_timeout: Duration.seconds(1) }))
    expect(bare.searchParams.get("options")).toBe("-c statement_timeout=1000")
  })
})

const postgres = databases.find((db) => db.name === "postgres")

describe.skipIf(postgres === undefined)("DATABASE_URL on PostgreSQL", () => {
  it.live("an `options=-c search_path=…` in the URL reaches every connection, beside the statement timeout", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const database = yield* postgres!.fresh
        if (database._tag !== "Postgres") throw new Error("expected a PostgreSQL database")
        const url = new URL(Redacted.value(database.url))
        const schema = url.username // each test database is a role with a schema of its name
        url.searchParams.set("options", `-c search_path=${schema},public`)
        const settings = yield* Effect.flatMap(
          SqlClient.SqlClient,
          (sql) =>
            Effect.all([
              sql<{ search_path: string }>`SHOW search_path`,
              sql<{ statement_timeout: string }>`SHOW statement_timeout`
            ])
        ).pipe(
          Effect.provide(
            Sql.layer(Sql.Database.Postgres({ url: Redacted.make(url.toString()), display: "test" })).pipe(Layer.orDie)
          )
        )
        expect(settings[0][0]!.search_path).toBe(`${schema},public`)
        expect(settings[1][0]!.statement_timeout).toBe("10s")
      })
    ))
})
