import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { ApiKeys, Sql, WorkflowStore } from "@workflows/http"
import { Effect, Layer, Redacted, type Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/**
 * The databases every storage and service test runs against: SQLite always, PostgreSQL when
 * `WORKFLOWS_TEST_PG_URL` names a server (`.ci/run` starts one). In CI its absence is an error,
 * so a green run can never mean "PostgreSQL was silently skipped".
 */
export interface TestDatabase {
  readonly name: "sqlite" | "postgres"
  /** A fresh, empty database for one test, removed when the scope closes. */
  readonly fresh: Effect.Effect<Sql.Database, never, Scope.Scope>
}

const pgUrl = process.env.WORKFLOWS_TEST_PG_URL

if (pgUrl === undefined && process.env.CI === "true") {
  throw new Error("CI=true but WORKFLOWS_TEST_PG_URL is not set: the PostgreSQL half of the suite cannot run")
}
if (pgUrl === undefined) {
  console.warn("WORKFLOWS_TEST_PG_URL is not set: PostgreSQL tests are skipped (source .ci/postgres.sh to run them)")
}

/** A temp directory for one test, removed afterwards. */
export const tempDir: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "workflows-test-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const sqlite: TestDatabase = {
  name: "sqlite",
  fresh: Effect.map(tempDir, (dir) => Sql.Database.Sqlite({ filename: join(dir, "workflows.db") }))
}

let counter = 0
const postgres = (base: string): TestDatabase => ({
  name: "postgres",
  fresh: Effect.gen(function* () {
    const name = `wf_test_${process.pid}_${Date.now()}_${counter++}`
    const exec = (statement: string) =>
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(
        Effect.provide(PgClient.layer({ url: Redacted.make(base) })),
        Effect.orDie
      )
    yield* Effect.acquireRelease(exec(`CREATE DATABASE ${name}`), () => exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
    const url = new URL(base)
    url.pathname = `/${name}`
    return Sql.Database.Postgres({ url: Redacted.make(url.toString()), display: url.toString() })
  })
})

export const databases: ReadonlyArray<TestDatabase> = pgUrl === undefined ? [sqlite] : [sqlite, postgres(pgUrl)]

/** The in-process service stack over a database, plus its SQL client for reading the tables directly. */
export const serviceLayer = (database: Sql.Database) =>
  Layer.mergeAll(WorkflowStore.Default, ApiKeys.Default).pipe(Layer.provideMerge(Sql.layer(database)), Layer.orDie)

/** Runs `effect` against a fresh database of the given kind with the whole service stack. */
export const withService = <A, E>(db: TestDatabase) =>
  (effect: Effect.Effect<A, E, WorkflowStore | ApiKeys | SqlClient.SqlClient>): Effect.Effect<A, E> =>
    Effect.scoped(Effect.flatMap(db.fresh, (database) => Effect.provide(effect, serviceLayer(database))))
