/**
 * The whole `workflows` command tree in one place: every command, its options, arguments and help.
 * Handlers live by kind, loaded only when their command runs, so `--help` and parse errors load
 * neither the server stack nor the typed client:
 * - `./Remote.js`: commands that call a server through the typed client;
 * - `./Operator.js`: `serve`, `migrate` and `keys …`, which act on the database directly.
 * A new command is a `Command.make` here plus a handler in the file of its kind, listed in `workflows` below.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
// The rules' plain values only: the help must not load the schemas.
import {
  DESCRIPTION_MAX,
  LIMIT_DEFAULT,
  LIMIT_MAX,
  REASON_MAX,
  TITLE_MAX,
  WORKFLOW_STATUSES
} from "@workflows/domain/constants"
import { exitCodeTable } from "./Failure.js"
// Types only: the handler modules themselves are loaded on demand, so `--help` never parses them.
import { forHandlers } from "./HelpText.js"
import type * as OperatorModule from "./Operator.js"
import type * as RemoteModule from "./Remote.js"

type RemoteHandlers = typeof RemoteModule
type OperatorHandlers = typeof OperatorModule

/** Loads the remote handlers and runs one. */
const remote = <A, E, R>(handle: (handlers: RemoteHandlers) => Effect.Effect<A, E, R>) =>
  forHandlers(Effect.flatMap(Effect.promise(() => import("./Remote.js")), handle))

/** Loads the operator handlers and runs one. */
const operator = <A, E>(handle: (handlers: OperatorHandlers) => Effect.Effect<A, E>) =>
  forHandlers(Effect.flatMap(Effect.promise(() => import("./Operator.js")), handle))

// ---------------------------------------------------------------------------------------------
// Shared options

/** A parse-time usage error with our own wording (the parser's own says "is not a integer"). */
const invalid = (message: string) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(message)))

/** A whole number, with a message that names the option (and its variable, when it has one). */
const wholeNumber = (label: string) => (text: string) =>
  /^\d{1,9}$/.test(text.trim())
    ? Effect.succeed(Number(text.trim()))
    : invalid(`${label} must be a whole number (got ${JSON.stringify(text)})`)

/** One of `choices`, with a message that names the option and lists them. */
const oneOf = <const C extends ReadonlyArray<string>>(label: string, choices: C) => (text: string) =>
  choices.includes(text)
    ? Effect.succeed(text as C[number])
    : invalid(`${label} must be one of ${choices.join(", ")} (got ${JSON.stringify(text)})`)

const json = Options.boolean("json").pipe(Options.withDescription("Print the API's JSON instead of text (for scripts)"))

/** An absolute http(s) URL; the usual mistake is leaving out the scheme, so say so. */
const serverUrl = (text: string) => {
  const url = URL.canParse(text) ? new URL(text) : undefined
  if (url !== undefined && (url.protocol === "http:" || url.protocol === "https:")) return Effect.succeed(text)
  const hint = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? "" : `: http:// is missing (try --url http://${text})`
  return invalid(`--url / $WORKFLOWS_URL must be an http:// or https:// URL (got ${JSON.stringify(text)})${hint}`)
}

/** Where the server is and how to authenticate: every remote command takes both. */
const connection = {
  url: Options.text("url").pipe(
    Options.withPseudoName("URL"),
    Options.withFallbackConfig(Config.string("WORKFLOWS_URL")),
    Options.withDefault("http://127.0.0.1:3000"),
    Options.mapEffect(serverUrl),
    Options.withDescription("Base URL of the workflows server ($WORKFLOWS_URL, default http://127.0.0.1:3000)")
  ),
  // Read as text and wrapped at once: `Options.redacted` would show its type as "redacted" in help.
  apiKey: Options.text("api-key").pipe(
    Options.withPseudoName("KEY"),
    Options.withFallbackConfig(Config.string("WORKFLOWS_API_KEY")),
    Options.map(Redacted.make),
    Options.withDescription("API key, wfk_… ($WORKFLOWS_API_KEY)"),
    Options.optional
  )
}

const workflowId = Args.text({ name: "ID" }).pipe(Args.withDescription("The workflow's id (wfl_…)"))

const ifMatch = Options.text("if-match").pipe(
  Options.withPseudoName("VERSION"),
  Options.mapEffect(wholeNumber("--if-match")),
  Options.withDescription("Only if the workflow is still at this VERSION (sent as If-Match: \"VERSION\")"),
  Options.optional
)

const paging = {
  limit: Options.text("limit").pipe(
    Options.withPseudoName("N"),
    Options.mapEffect(wholeNumber("--limit")),
    Options.withDescription(`Items per page, 1–${LIMIT_MAX} (server default ${LIMIT_DEFAULT})`),
    Options.optional
  ),
  all: Options.boolean("all").pipe(Options.withDescription("Follow the pages until the last one (starting_after)"))
}

const database = Options.text("database").pipe(
  Options.withPseudoName("URL"),
  Options.withDescription(
    "sqlite:PATH, postgres://… or postgresql://… (default: $DATABASE_URL, else sqlite:./data/workflows.db)"
  ),
  Options.optional
)

// ---------------------------------------------------------------------------------------------
// Remote commands: through the typed client

const create = Command.make(
  "create",
  {
    ...connection,
    json,
    title: Options.text("title").pipe(
      Options.withPseudoName("TEXT"),
      Options.withDescription(`The workflow's title (1–${TITLE_MAX} characters)`)
    ),
    description: Options.text("description").pipe(
      Options.withPseudoName("TEXT"),
      Options.withDescription(`Its description (up to ${DESCRIPTION_MAX.toLocaleString("en")} characters)`),
      Options.optional
    ),
    idempotencyKey: Options.text("idempotency-key").pipe(
      Options.withPseudoName("KEY"),
      Options.withDescription("Makes a retry return the first response instead of creating twice"),
      Options.optional
    )
  },
  (input) => remote((r) => r.create(input))
).pipe(Command.withDescription("Create a workflow (status draft)."))

const get = Command.make("get", { ...connection, json, id: workflowId }, (input) => remote((r) => r.get(input))).pipe(
  Command.withDescription("Show one workflow.")
)

const list = Command.make(
  "list",
  {
    ...connection,
    json,
    ...paging,
    // Read as text and checked here: the parser's own choice error does not say which option it is about.
    status: Options.text("status").pipe(
      Options.withPseudoName(WORKFLOW_STATUSES.join(" | ")),
      Options.mapEffect(oneOf("--status", WORKFLOW_STATUSES)),
      Options.withDescription(
        `Only workflows in this status (active includes running): ${WORKFLOW_STATUSES.join(", ")}`
      ),
      Options.optional
    )
  },
  (input) => remote((r) => r.list(input))
).pipe(Command.withDescription("List the organization's workflows, newest first."))

const update = Command.make(
  "update",
  {
    ...connection,
    json,
    id: workflowId.pipe(Args.optional),
    title: Options.text("title").pipe(
      Options.withPseudoName("TEXT"),
      Options.withDescription("New title"),
      Options.optional
    ),
    description: Options.text("description").pipe(
      Options.withPseudoName("TEXT"),
      Options.withDescription("New description"),
      Options.optional
    ),
    clearDescription: Options.boolean("clear-description").pipe(Options.withDescription("Remove the description")),
    ifMatch,
    from: Options.text("from").pipe(
      Options.withPseudoName("FILE"),
      Options.withDescription(
        "Update many workflows from a file instead of one ID: CSV with a header row (id, and any of version, title, name, " +
          "description; an empty cell leaves its field alone) or JSON Lines (.jsonl/.ndjson; null clears a description); " +
          "- reads standard input. A version is sent as If-Match. Exit 7 when some row failed."
      ),
      Options.optional
    ),
    format: Options.choice("format", ["csv", "jsonl"] as const).pipe(
      Options.withDescription("The format of --from when its name does not say (.csv, .jsonl, .ndjson), e.g. for -"),
      Options.optional
    ),
    dryRun: Options.boolean("dry-run").pipe(
      Options.withDescription("With --from: read each workflow and judge its row, write nothing")
    ),
    concurrency: Options.text("concurrency").pipe(
      Options.withPseudoName("N"),
      Options.mapEffect(wholeNumber("--concurrency")),
      Options.withDescription("With --from: rows in flight at once, 1–64 (default 8)"),
      Options.optional
    ),
    report: Options.text("report").pipe(
      Options.withPseudoName("FILE"),
      Options.withDescription(
        "With --from: write one JSON line per row to this file ({line, id, outcome, version, code?, message?})"
      ),
      Options.optional
    )
  },
  (input) => remote((r) => r.updateCommand(input))
).pipe(
  Command.withDescription(
    "Change a workflow's title or description (in any status), or those of many workflows from a file (--from FILE)."
  )
)

const lifecycleHelp = {
  activate: "Activate a draft workflow.",
  pause: "Pause an active workflow.",
  resume: "Resume a paused workflow.",
  cancel: "Cancel a workflow that is not completed (final)."
} as const

const lifecycle = (action: keyof typeof lifecycleHelp) =>
  Command.make(
    action,
    {
      ...connection,
      json,
      id: workflowId,
      reason: Options.text("reason").pipe(
        Options.withPseudoName("TEXT"),
        Options.withDescription(`Why, for the audit trail (up to ${REASON_MAX} characters)`),
        Options.optional
      ),
      ifMatch
    },
    (input) => remote((r) => r.lifecycle(action, input))
  ).pipe(Command.withDescription(lifecycleHelp[action]))

const events = Command.make(
  "events",
  { ...connection, json, ...paging, id: workflowId },
  (input) => remote((r) => r.events(input))
).pipe(Command.withDescription("Show a workflow's audit trail, newest first."))

// ---------------------------------------------------------------------------------------------
// Operator commands: on the database directly

const serve = Command.make(
  "serve",
  {
    port: Options.text("port").pipe(
      Options.withPseudoName("PORT"),
      Options.withFallbackConfig(Config.string("PORT")),
      Options.withDefault("3000"),
      // Node would take 99999 as a defect at listen time; say what is wrong before starting anything.
      Options.mapEffect((text) =>
        Effect.flatMap(
          wholeNumber("--port / $PORT")(text),
          (port) => port <= 65535 ? Effect.succeed(port) : invalid("--port / $PORT must be from 0 to 65535")
        )
      ),
      Options.withDescription("Port to listen on ($PORT, default 3000)")
    ),
    host: Options.text("host").pipe(
      Options.withPseudoName("HOST"),
      Options.withFallbackConfig(Config.string("HOST")),
      Options.withDefault("127.0.0.1"),
      Options.withDescription("Address to bind ($HOST, default 127.0.0.1)")
    ),
    database
  },
  (input) => operator((o) => o.serve(input))
).pipe(Command.withDescription("Migrate the database, then serve the HTTP API until SIGINT/SIGTERM."))

const migrate = Command.make("migrate", { database }, (input) => operator((o) => o.migrate(input))).pipe(
  Command.withDescription("Apply the database migrations, then exit.")
)

const keysCreate = Command.make(
  "create",
  {
    database,
    json,
    org: Options.text("org").pipe(
      Options.withPseudoName("ORG"),
      Options.withDescription("The organization, org_… (created if new)")
    ),
    name: Options.text("name").pipe(
      Options.withPseudoName("TEXT"),
      Options.withDescription("A label for the key"),
      Options.withDefault("")
    )
  },
  (input) => operator((o) => o.keysCreate(input))
).pipe(Command.withDescription("Create an API key and print it (it is shown only this once)."))

const keysList = Command.make(
  "list",
  {
    database,
    json,
    org: Options.text("org").pipe(
      Options.withPseudoName("ORG"),
      Options.withDescription("Only this organization's keys"),
      Options.optional
    )
  },
  (input) => operator((o) => o.keysList(input))
).pipe(Command.withDescription("List API keys (never their secrets)."))

const keysRevoke = Command.make(
  "revoke",
  { database, id: Args.text({ name: "KEY_ID" }).pipe(Args.withDescription("The key's id (key_…)")) },
  (input) => operator((o) => o.keysRevoke(input))
).pipe(Command.withDescription("Revoke an API key: it is refused at once."))

const keys = Command.make("keys").pipe(
  Command.withDescription("Manage API keys in the database (--database or $DATABASE_URL)."),
  Command.withSubcommands([keysCreate, keysList, keysRevoke])
)

// ---------------------------------------------------------------------------------------------
// The tree

const description = HelpDoc.blocks([
  HelpDoc.p("The workflow record service: serve it, administer it, call it."),
  HelpDoc.p(
    "Remote commands (create, get, list, update, activate, pause, resume, cancel, events) call a server at " +
      "--url ($WORKFLOWS_URL) with --api-key ($WORKFLOWS_API_KEY). serve, migrate and keys act on the " +
      "database (--database or $DATABASE_URL)."
  ),
  HelpDoc.p(["Exit codes:", ...exitCodeTable.map(([code, meaning]) => `  ${code}  ${meaning}`)].join("\n"))
])

export const NAME = "workflows"

export const workflows = Command.make(NAME).pipe(
  Command.withDescription(description),
  Command.withSubcommands([
    serve,
    migrate,
    keys,
    create,
    get,
    list,
    update,
    lifecycle("activate"),
    lifecycle("pause"),
    lifecycle("resume"),
    lifecycle("cancel"),
    events
  ])
)

export const run = Command.run(workflows, { name: NAME, version: "0.1.0" })
