import * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect } from "effect"
import { serve } from "./Serve.js"

const workflows = Command.make("workflows").pipe(
  Command.withDescription("The workflow record service: serve it, administer it, call it."),
  Command.withSubcommands([serve])
)

const cli = Command.run(workflows, { name: "workflows", version: "0.1.0" })

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain({ disablePrettyLogger: true }))
