// (1) The program in-process over SQLite: `Workflows` from the store, migrated on build.
import { OrganizationId } from "@workflows/domain"
import { Sql, WorkflowStore } from "@workflows/http"
import { Effect, Layer } from "effect"
import { program } from "./program.js"

const filename = process.argv[2] ?? "./workflows.db"

const InProcess = WorkflowStore.layer({ organization_id: OrganizationId.make("org_default") }).pipe(
  Layer.provide(WorkflowStore.Default),
  Layer.provide(Sql.layer(Sql.Database.Sqlite({ filename })))
)

Effect.runPromise(program.pipe(Effect.provide(InProcess))).then((summary) => console.log(JSON.stringify(summary)))
