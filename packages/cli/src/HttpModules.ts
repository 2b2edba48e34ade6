/**
 * The parts of `@workflows/http` a command needs, loaded when it runs: a remote call or a key
 * command never pays for the HTTP server and its docs assets, nor the typed client for `serve`.
 */
import type { Workflows, WorkflowsClient } from "@workflows/http/client"
import * as Effect from "effect/Effect"

/** The typed HTTP client and the service tag it provides. */
export const client: Effect.Effect<{
  readonly layer: typeof WorkflowsClient.layer
  readonly Workflows: typeof Workflows
}> = Effect.promise(async () => {
  const remote = await import("@workflows/http/client")
  return { layer: remote.WorkflowsClient.layer, Workflows: remote.Workflows }
})

/** The bulk update (file reading and the runner) and the service tag it runs over. */
export const bulk = Effect.promise(() => import("@workflows/http/client"))

/** The database layer (migrations included) and the API key store. */
export const storage = Effect.promise(() => import("@workflows/http/storage"))

/** Everything `serve` runs. */
export const server = Effect.promise(() => import("@workflows/http"))
