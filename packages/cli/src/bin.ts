import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { run } from "./Commands.js"
import { teardown, toExitCode } from "./Failure.js"

// What the CLI framework needs, and no more (NodeContext would also load the process and worker modules).
const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

run(process.argv).pipe(toExitCode, Effect.provide(Platform), NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true, teardown }))
