import * as HttpServer from "@effect/platform/HttpServer"
import { SqlClient } from "@effect/sql"
import { OrganizationId } from "@workflows/domain"
import { ApiKeys, HttpAppLive, NodeServerLive, Sql, type TracingOptions, WorkflowStore } from "@workflows/http"
import { Effect, Layer, Logger, LogLevel, Option, type Scope } from "effect"
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
}

export const ORG_ALPHA = OrganizationId.make("org_alpha")
export const ORG_BETA = OrganizationId.make("org_beta")

/** `tracing`: where the server exports its spans (none by default, as in production without OTEL variables). */
export const liveServer = (
  db: TestDatabase,
  tracing: Option.Option<TracingOptions> = Option.none()
): Effect.Effect<LiveServer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const database = yield* db.fresh
    const context = yield* Layer.build(
      Layer.mergeAll(HttpAppLive(database, tracing), Layer.empty).pipe(
        Layer.provideMerge(NodeServerLive({ port: 0, host: "127.0.0.1" })),
        Layer.provideMerge(Layer.mergeAll(WorkflowStore.Default, ApiKeys.Default)),
        Layer.provideMerge(Sql.layer(database)),
        // The request log is checked by its own test; elsewhere it would bury vitest's output.
        Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)),
        Layer.orDie
      )
    )
    return yield* Effect.gen(function* () {
      const keys = yield* ApiKeys
      const alpha = yield* keys.create(ORG_ALPHA, "test")
      const beta = yield* keys.create(ORG_BETA, "test")
      const url = yield* HttpServer.addressFormattedWith((address) => Effect.succeed(address))
      return { url, key: alpha.key, otherKey: beta.key, keyId: alpha.id, sql: yield* SqlClient.SqlClient, database }
    }).pipe(Effect.provide(context))
  })
