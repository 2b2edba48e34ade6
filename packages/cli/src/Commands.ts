/**
 * The `workflows` command tree: options, arguments and help only. Handlers load what they need
 * (`./Remote.js`, `./Admin.js`) when they run, so `--help` and parse errors load neither the
 * server stack nor the typed client.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import { exitCodeTable } from "./Failure.js"
import { databaseOption, serve } from "./Serve.js"

const remote = Effect.promise(() => import("./Remote.js"))
const admin = Effect.promise(() => import("./Admin.js"))

// ---------------------------------------------------------------------------------------------
// Shared options

const json = Options.boolean("json").pipe(Options.withDescription("Print the API's JSON instead of text (for scripts)"))

/** Where the server is and how to authenticate: every remote command takes both. */
const connection = {
  url: Options.text("url").pipe(
    Options.withFallbackConfig(Config.string("WORKFLOWS_URL")),
    Options.withDefault("http://127.0.0.1:3000"),
    Options.withDescription("Base URL of the workflows server ($WORKFLOWS_URL, default http://127.0.0.1:3000)")
  ),
  apiKey: Options.redacted("api-key").pipe(
    Options.withFallbackConfig(Config.redacted("WORKFLOWS_API_KEY")),
    Options.withDescription("API key, wfk_… ($WORKFLOWS_API_KEY)"),
    Options.optional
  )
}

const workflowId = Args.text({ name: "ID" }).pipe(Args.withDescription("The workflow's id (wfl_…)"))

const ifMatch = Options.integer("if-match").pipe(
  Options.withDescription("Only if the workflow is still at this VERSION (sent as If-Match: \"VERSION\")"),
  Options.optional
)

const STATUSES = ["draft", "active", "running", "paused", "completed", "cancelled"] as const

const paging = {
  limit: Options.integer("limit").pipe(Options.withDescription("Items per page, 1–100 (server default 20)"), Options.optional),
  all: Options.boolean("all").pipe(Options.withDescription("Follow the pages until the last one (starting_after)"))
}

// ---------------------------------------------------------------------------------------------
// Remote commands: through the typed client

const create = Command.make(
  "create",
  {
    ...connection,
    json,
    title: Options.text("title").pipe(Options.withDescription("The workflow's title (1–200 characters)")),
    description: Options.text("description").pipe(Options.withDescription("Its description (up to 2,000 characters)"), Options.optional),
    idempotencyKey: Options.text("idempotency-key").pipe(
      Options.withDescription("Makes a retry return the first response instead of creating twice"),
      Options.optional
    )
  },
  (input) => Effect.flatMap(remote, (r) => r.create(input))
).pipe(Command.withDescription("Create a workflow (status draft)."))

const get = Command.make("get", { ...connection, json, id: workflowId }, (input) => Effect.flatMap(remote, (r) => r.get(input))).pipe(
  Command.withDescription("Show one workflow.")
)

const list = Command.make(
  "list",
  {
    ...connection,
    json,
    ...paging,
    status: Options.choice("status", STATUSES).pipe(Options.withDescription("Only workflows in this status (active includes running)"), Options.optional)
  },
  (input) => Effect.flatMap(remote, (r) => r.list(input))
).pipe(Command.withDescription("List the organization's workflows, newest first."))

const update = Command.make(
  "update",
  {
    ...connection,
    json,
    id: workflowId.pipe(Args.optional),
    title: Options.text("title").pipe(Options.withDescription("New title"), Options.optional),
    description: Options.text("description").pipe(Options.withDescription("New description"), Options.optional),
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
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("With --from: read each workflow and judge its row, write nothing")),
    concurrency: Options.integer("concurrency").pipe(
      Options.withPseudoName("N"),
      Options.withDescription("With --from: rows in flight at once, 1–64 (default 8)"),
      Options.optional
    ),
    report: Options.text("report").pipe(
      Options.withPseudoName("FILE"),
      Options.withDescription("With --from: write one JSON line per row to this file ({line, id, outcome, version, code?, message?})"),
      Options.optional
    )
  },
  (input) => Effect.flatMap(remote, (r) => r.updateCommand(input))
).pipe(Command.withDescription("Change a workflow's title or description (in any status), or those of many workflows from a file (--from FILE)."))

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
      reason: Options.text("reason").pipe(Options.withDescription("Why, for the audit trail (up to 500 characters)"), Options.optional),
      ifMatch
    },
    (input) => Effect.flatMap(remote, (r) => r.lifecycle(action, input))
  ).pipe(Command.withDescription(lifecycleHelp[action]))

const events = Command.make("events", { ...connection, json, ...paging, id: workflowId }, (input) =>
  Effect.flatMap(remote, (r) => r.events(input))
).pipe(Command.withDescription("Show a workflow's audit trail, newest first."))

// ---------------------------------------------------------------------------------------------
// Operator commands: on the database directly

const migrate = Command.make("migrate", { database: databaseOption }, (input) => Effect.flatMap(admin, (a) => a.migrate(input))).pipe(
  Command.withDescription("Apply the database migrations, then exit.")
)

const keysCreate = Command.make(
  "create",
  {
    database: databaseOption,
    json,
    org: Options.text("org").pipe(Options.withDescription("The organization, org_… (created if new)")),
    name: Options.text("name").pipe(Options.withDescription("A label for the key"), Options.withDefault(""))
  },
  (input) => Effect.flatMap(admin, (a) => a.keysCreate(input))
).pipe(Command.withDescription("Create an API key and print it (it is shown only this once)."))

const keysList = Command.make(
  "list",
  {
    database: databaseOption,
    json,
    org: Options.text("org").pipe(Options.withDescription("Only this organization's keys"), Options.optional)
  },
  (input) => Effect.flatMap(admin, (a) => a.keysList(input))
).pipe(Command.withDescription("List API keys (never their secrets)."))

const keysRevoke = Command.make(
  "revoke",
  { database: databaseOption, id: Args.text({ name: "KEY_ID" }).pipe(Args.withDescription("The key's id (key_…)")) },
  (input) => Effect.flatMap(admin, (a) => a.keysRevoke(input))
).pipe(Command.withDescription("Revoke an API key: it is refused at once."))

const keys = Command.make("keys").pipe(
  Command.withDescription("Manage API keys in the database (--database or $DATABASE_URL)."),
  Command.withSubcommands([keysCreate, keysList, keysRevoke])
)

// ---------------------------------------------------------------------------------------------

const description = HelpDoc.blocks([
  HelpDoc.p("The workflow record service: serve it, administer it, call it."),
  HelpDoc.p(
    "Remote commands (create, get, list, update, activate, pause, resume, cancel, events) call a server at --url " +
      "($WORKFLOWS_URL) with --api-key ($WORKFLOWS_API_KEY). serve, migrate and keys act on the database " +
      "(--database or $DATABASE_URL)."
  ),
  HelpDoc.p(["Exit codes:", ...exitCodeTable.map(([code, meaning]) => `  ${code}  ${meaning}`)].join("\n"))
])

export const workflows = Command.make("workflows").pipe(
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

export const run = Command.run(workflows, { name: "workflows", version: "0.1.0" })
