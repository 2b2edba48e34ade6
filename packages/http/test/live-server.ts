import * as HttpServer from "@effect/platform/HttpServer"
import { SqlClient } from "@effect/sql"
import { OrganizationId } from "@workflows/domain"
import { ApiKeys, HttpAppLive, NodeServerLive, Sql, TracingConfig, WorkflowStore } from "@workflows/http"
import { ConfigProvider, Effect, Layer, Logger, LogLevel, type Scope } from "effect"
import type { TestDatabase } from "./databases.js"

/** A real server on a random loopback port over a fresh database, with keys for two organizations. */
export interface LiveServer {
  readonly url: string
  /** A key of `org_alpha`. */
  readonly key: string
  /** A key of `org_beta`, for tenancy checks. */
  readonly otherKey: string
  readonly keyId: string
  /** The server's own database, to check what was really stored. */
  readonly sql: SqlClient.SqlClient
  /** Which database it is (a SQLite file can be opened by a second connection). */
  readonly database: Sql.Database
  /** The server's log lines at WARN and above (logfmt), kept here instead of printed. */
  readonly logs: () => ReadonlyArray<string>
}

export const ORG_ALPHA = OrganizationId.make("org_alpha")
export const ORG_BETA = OrganizationId.make("org_beta")

/**
 * `env`: configuration read while the stack is built (e.g. `DATABASE_POOL_SIZE`, or the `OTEL_*`
 * variables that switch tracing on), as the environment would give it.
 */
export const liveServer = (
  db: TestDatabase,
  env: Record<string, string> = {}
): Effect.Effect<LiveServer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const database = yield* db.fresh
    // Tests that provoke a server bug or an outage on purpose would print its ERROR line and cause
    // into vitest's output of a passing run; they read them from here instead.
    const lines: Array<string> = []
    const captured = Logger.make((entry) => {
      lines.push(Logger.logfmtLogger.log(entry))
    })
    const context = yield* Layer.build(
      Layer.unwrapEffect(Effect.map(TracingConfig, (tracing) => HttpAppLive(database, tracing))).pipe(
        Layer.provideMerge(NodeServerLive({ port: 0, host: "127.0.0.1" })),
        Layer.provideMerge(Layer.mergeAll(WorkflowStore.Default, ApiKeys.Default)),
        Layer.provideMerge(Sql.layer(database)),
        // The request log (INFO) is checked by its own test; here only warnings and errors are kept.
        Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)),
        Layer.provide(Logger.replace(Logger.defaultLogger, captured)),
        Layer.orDie
      )
    ).pipe(Effect.withConfigProvider(ConfigProvider.fromJson(env).pipe(ConfigProvider.orElse(ConfigProvider.fromEnv))))
    return yield* Effect.gen(function*() {
      const keys = yield* ApiKeys
      const alpha = yield* keys.create(ORG_ALPHA, "test")
      const beta = yield* keys.create(ORG_BETA, "test")
      const url = yield* HttpServer.addressFormattedWith((address) => Effect.succeed(address))
      const logs = () => [...lines]
      return {
        url,
        key: alpha.key,
        otherKey: beta.key,
        keyId: alpha.id,
        sql: yield* SqlClient.SqlClient,
        database,
        logs
      }
    }).pipe(Effect.provide(context))
  })
