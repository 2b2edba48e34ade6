import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { NAME, run } from "./Commands.js"
import { teardown, toExitCode } from "./Failure.js"
import { cliConsole, colourWanted } from "./HelpText.js"

// What the CLI framework needs, and no more (NodeContext would also load the process and worker modules).
const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

const args = process.argv.slice(2)

Effect.flatMap(
  cliConsole(args, NAME, colourWanted(process.stdout, process.env)),
  (console) => run(process.argv).pipe(Effect.withConsole(console))
).pipe(
  toExitCode,
  Effect.provide(Platform),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true, teardown })
)
