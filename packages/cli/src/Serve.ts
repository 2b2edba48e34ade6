import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

export const databaseOption = Options.text("database").pipe(
  Options.withDescription("sqlite:PATH, postgres://… or postgresql://… (default: $DATABASE_URL, else sqlite:./data/workflows.db)"),
  Options.optional
)

export const serve = Command.make(
  "serve",
  {
    port: Options.integer("port").pipe(
      Options.withFallbackConfig(Config.integer("PORT")),
      Options.withDefault(3000),
      // Node would take 99999 as a defect at listen time; say what is wrong before starting anything.
      Options.filterMap((port) => (port >= 0 && port <= 65535 ? Option.some(port) : Option.none()), "--port / $PORT must be from 0 to 65535"),
      Options.withDescription("Port to listen on ($PORT, default 3000)")
    ),
    host: Options.text("host").pipe(Options.withFallbackConfig(Config.string("HOST")), Options.withDefault("127.0.0.1"), Options.withDescription("Address to bind ($HOST, default 127.0.0.1)")),
    database: databaseOption
  },
  // The server stack loads only when this command runs.
  (input) => Effect.flatMap(Effect.promise(() => import("./Admin.js")), (admin) => admin.serve(input))
).pipe(Command.withDescription("Migrate the database, then serve the HTTP API until SIGINT/SIGTERM."))
