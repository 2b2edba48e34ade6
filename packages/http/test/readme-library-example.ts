import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { OrganizationId } from "@workflows/domain"
import { Sql, Workflows, WorkflowsClient, WorkflowStore } from "@workflows/http"
import { Console, Effect, Layer } from "effect"

// The program: it needs `Workflows`, whichever layer provides it, and handles each typed error.
const rename = (id: string, title: string) =>
  Effect.gen(function*() {
    const workflows = yield* Workflows
    const workflow = yield* workflows.update(id, { title })
    yield* Console.log(`${workflow.id} is now "${workflow.title}" (version ${workflow.version})`)
  }).pipe(
    Effect.catchTags({
      WorkflowNotFound: (e) => Console.error(e.message),
      WorkflowValidationError: (e) => Console.error(`not a valid title: ${e.message}`),
      WorkflowStatusConflict: (e) => Console.error(e.message),
      WorkflowPreconditionFailed: (e) => Console.error(e.message)
    })
  ) // Effect<void, never, Workflows>

// In-process, over the server's SQLite file (or Sql.Database.Postgres({ url, display }))
const InProcess = WorkflowStore.layer({ organization_id: OrganizationId.make("org_default") }).pipe(
  Layer.provide(WorkflowStore.Default),
  Layer.provide(Sql.layer(Sql.Database.Sqlite({ filename: "./data/workflows.db" })))
)
// Or remote, through the typed client: WORKFLOWS_URL and WORKFLOWS_API_KEY from the environment
const Remote = WorkflowsClient.layerConfig

rename("wfl_m3v7zb9rk2px", "30-Day Lead Nurture v2").pipe(
  Effect.provide(process.env["WORKFLOWS_URL"] === undefined ? InProcess : Remote),
  // What is left is setting up (a database that cannot be opened, a missing setting): reported, exit 1.
  NodeRuntime.runMain
)
