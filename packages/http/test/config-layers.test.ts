import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Sql, Workflows, WorkflowsClient, WorkflowStore } from "@workflows/http"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { existsSync } from "node:fs"
import { databases } from "./databases.js"
import { liveServer, ORG_ALPHA } from "./live-server.js"

/** The layers the READMEs advertise for configuration from the environment, as a service would use them. */
const withEnv = (entries: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries))))

const createOne = Effect.flatMap(
  Workflows,
  (workflows) => workflows.create({ title: "Configured from the environment" })
)

const urlOf = (database: Sql.Database) =>
  Sql.Database.$match(database, {
    Sqlite: ({ filename }) => `sqlite:${filename}`,
    Postgres: ({ url }) => Redacted.value(url)
  })

for (const db of databases) {
  describe(`Sql.layerFromConfig (${db.name})`, () => {
    it.live("opens and migrates the database DATABASE_URL names, and the service writes there", () =>
      Effect.scoped(
        Effect.gen(function*() {
          const database = yield* db.fresh
          const created = yield* createOne.pipe(
            Effect.provide(
              WorkflowStore.layer({ organization_id: ORG_ALPHA }).pipe(
                Layer.provide(WorkflowStore.Default),
                Layer.provide(Sql.layerFromConfig)
              )
            ),
            withEnv({ DATABASE_URL: urlOf(database) })
          )
          if (database._tag === "Sqlite") expect(existsSync(database.filename)).toBe(true)
          // Read back through a client of our own on the same database.
          const rows = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
            sql<{ title: string }>`SELECT title FROM workflows WHERE id = ${created.id}`).pipe(
              Effect.provide(Sql.layer(database))
            )
          expect(rows).toEqual([{ title: "Configured from the environment" }])
        })
      ))
  })
}

describe("Sql.layerFromConfig and WorkflowsClient.layerConfig without usable settings", () => {
  it.live("another DATABASE_URL scheme fails the layer with a configuration error naming the variable", () =>
    Effect.gen(function*() {
      const error = yield* Layer.build(Sql.layerFromConfig).pipe(
        Effect.scoped,
        withEnv({ DATABASE_URL: "mysql://db/workflows" }),
        Effect.flip
      )
      expect(error._tag).toBe("ConfigError")
      expect(String(error)).toContain("DATABASE_URL")
    }))

  it.live("no WORKFLOWS_API_KEY fails the client layer with a configuration error naming it", () =>
    Effect.gen(function*() {
      const error = yield* Layer.build(WorkflowsClient.layerConfig).pipe(
        Effect.scoped,
        withEnv({ WORKFLOWS_URL: "http://127.0.0.1:1" }),
        Effect.flip
      )
      expect(String(error)).toContain("WORKFLOWS_API_KEY")
    }))
})

describe("WorkflowsClient.layerConfig", () => {
  const sqlite = databases[0]!
  it.live("calls the server at WORKFLOWS_URL with WORKFLOWS_API_KEY", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const server = yield* liveServer(sqlite)
        const created = yield* createOne.pipe(
          Effect.provide(WorkflowsClient.layerConfig),
          withEnv({ WORKFLOWS_URL: server.url, WORKFLOWS_API_KEY: server.key })
        )
        // Stored by that server, on behalf of that key.
        const events = yield* server.sql<
          { actor: string }
        >`SELECT actor FROM workflow_events WHERE workflow_id = ${created.id}`
        expect(events.map((event) => JSON.parse(event.actor))).toEqual([{ type: "api_key", id: server.keyId }])
      })
    ))
})
