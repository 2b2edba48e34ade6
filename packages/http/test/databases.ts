import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { ApiKeys, Sql, WorkflowStore } from "@workflows/http"
import { Duration, Effect, Layer, ManagedRuntime, Redacted, type Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/**
 * The databases every storage and service test runs against: SQLite always, PostgreSQL when
 * `WORKFLOWS_TEST_PG_URL` names a server (`.ci/run` starts one).
 */
export interface TestDatabase {
  readonly name: "sqlite" | "postgres"
  /** A fresh, empty database for one test, removed when the scope closes. */
  readonly fresh: Effect.Effect<Sql.Database, never, Scope.Scope>
}

const pgUrl = process.env.WORKFLOWS_TEST_PG_URL

// Without it, postgres-notice.ts (the project's global setup) says so once, or fails the run in CI.

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

/**
 * One small admin pool per test process, reused by every test: opening a pool per statement
 * costs more than the statement.
 */
let admin: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, never> | undefined
const adminExec = (base: string, statement: string) =>
  Effect.suspend(() => {
    admin ??= ManagedRuntime.make(
      PgClient.layer({ url: Redacted.make(base), maxConnections: 2, idleTimeout: Duration.seconds(2) }).pipe(
        Layer.orDie
      )
    )
    const runtime = admin
    return Effect.promise(() => runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement))))
  })

/**
 * Each test gets its own role and a schema of the same name in the shared database, with the
 * role's search_path set to it: the service sees an empty database of its own, and creating or
 * dropping a schema costs a few milliseconds where a database costs hundreds.
 */
const postgres = (base: string): TestDatabase => ({
  name: "postgres",
  fresh: Effect.gen(function*() {
    const name = `wf_test_${process.pid}_${Date.now().toString(36)}_${counter++}`
    const exec = (statement: string) => adminExec(base, statement)
    yield* Effect.acquireRelease(
      Effect.all([
        exec(`CREATE ROLE ${name} LOGIN PASSWORD '${name}'`),
        exec(`ALTER ROLE ${name} SET search_path = ${name}`),
        exec(`CREATE SCHEMA ${name} AUTHORIZATION ${name}`)
      ], { discard: true }),
      () =>
        Effect.all([
          exec(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${name}' AND pid <> pg_backend_pid()`
          ),
          exec(`DROP SCHEMA IF EXISTS ${name} CASCADE`),
          exec(`DROP ROLE IF EXISTS ${name}`)
        ], { discard: true })
    )
    const url = new URL(base)
    url.username = name
    url.password = name
    return Sql.Database.Postgres({
      url: Redacted.make(url.toString()),
      display: `postgres://${url.host}${url.pathname} (schema ${name})`
    })
  })
})

export const databases: ReadonlyArray<TestDatabase> = pgUrl === undefined ? [sqlite] : [sqlite, postgres(pgUrl)]

/** The in-process service stack over a database, plus its SQL client for reading the tables directly. */
export const serviceLayer = (database: Sql.Database) =>
  Layer.mergeAll(WorkflowStore.Default, ApiKeys.Default).pipe(Layer.provideMerge(Sql.layer(database)), Layer.orDie)

/** Runs `effect` against a fresh database of the given kind with the whole service stack. */
export const withService =
  <A, E>(db: TestDatabase) =>
  (effect: Effect.Effect<A, E, WorkflowStore | ApiKeys | SqlClient.SqlClient>): Effect.Effect<A, E> =>
    Effect.scoped(Effect.flatMap(db.fresh, (database) => Effect.provide(effect, serviceLayer(database))))
