// (2) The same program through the typed client, configured from WORKFLOWS_URL and WORKFLOWS_API_KEY.
// Only the client entry point is imported: this file must run without a database driver.
import { WorkflowsClient } from "@workflows/http/client"
import { Effect } from "effect"
import { program } from "./program.js"

Effect.runPromise(program.pipe(Effect.provide(WorkflowsClient.layerConfig))).then((summary) => console.log(JSON.stringify(summary)))
