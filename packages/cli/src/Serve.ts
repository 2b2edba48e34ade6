import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Sql, ServerLive } from "@workflows/http"
import { Config, ConfigError, Effect, Layer, Option } from "effect"

export const databaseOption = Options.text("database").pipe(
  Options.withDescription("sqlite:PATH, postgres://… or postgresql://… (default: $DATABASE_URL, else sqlite:./data/workflows.db)"),
  Options.optional
)

/** `--database` when given, else `DATABASE_URL`, else the embedded default. */
export const resolveDatabase = (flag: Option.Option<string>): Effect.Effect<Sql.Database, ConfigError.ConfigError> =>
  Option.match(flag, {
    onNone: () => Sql.DatabaseConfig,
    onSome: (url) => Effect.mapError(Sql.parseDatabaseUrl(url), (message) => ConfigError.InvalidData(["--database"], message))
  })

export const serve = Command.make(
  "serve",
  {
    port: Options.integer("port").pipe(Options.withFallbackConfig(Config.integer("PORT")), Options.withDefault(3000), Options.withDescription("Port to listen on ($PORT, default 3000)")),
    host: Options.text("host").pipe(Options.withFallbackConfig(Config.string("HOST")), Options.withDefault("127.0.0.1"), Options.withDescription("Address to bind ($HOST, default 127.0.0.1)")),
    database: databaseOption
  },
  ({ database, host, port }) =>
    Effect.flatMap(resolveDatabase(database), (db) => Layer.launch(ServerLive({ port, host, database: db })))
).pipe(Command.withDescription("Migrate the database, then serve the HTTP API until SIGINT/SIGTERM."))
