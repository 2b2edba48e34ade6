import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { WorkflowNotFound, WorkflowStatusConflict } from "@workflows/domain"
import { Workflows, WorkflowsClient, WorkflowStore } from "@workflows/http"
import { Effect, Layer, Redacted } from "effect"
import { databases, serviceLayer } from "./databases.js"
import { liveServer, ORG_ALPHA } from "./live-server.js"

/** What another service would write: one program against `Workflows`, indifferent to where it runs. */
const program = Effect.gen(function*() {
  const workflows = yield* Workflows
  const created = yield* workflows.create({ title: "Lead Nurture Sequence" })
  const renamed = yield* workflows.update(created.id, { name: "30-Day Lead Nurture v2" })
  const conflict = yield* workflows.update(created.id, { status: "paused" }).pipe(Effect.flip)
  const missing = yield* workflows.get("wfl_doesnotexist1").pipe(Effect.flip)
  const activated = yield* workflows.activate(created.id, { body: { reason: "launch" } })
  const events = yield* workflows.events(created.id)
  return { created, renamed, conflict, missing, activated, events }
})

for (const db of databases) {
  describe(`the same program in-process and over HTTP (${db.name})`, () => {
    it.live("returns the same values and the same tagged errors", () =>
      Effect.scoped(
        Effect.gen(function*() {
          const server = yield* liveServer(db)
          const remote = yield* program.pipe(
            Effect.provide(
              WorkflowsClient.layer({ url: server.url, apiKey: Redacted.make(server.key) }).pipe(
                Layer.provide(FetchHttpClient.layer)
              )
            )
          )
          const local = yield* Effect.flatMap(db.fresh, (database) =>
            program.pipe(
              Effect.provide(
                WorkflowStore.layer({ organization_id: ORG_ALPHA }).pipe(Layer.provide(serviceLayer(database)))
              )
            ))
          for (const run of [remote, local]) {
            expect(run.renamed.title).toBe("30-Day Lead Nurture v2")
            expect(run.renamed.version).toBe(2)
            expect(run.conflict).toBeInstanceOf(WorkflowStatusConflict)
            expect(run.conflict).toMatchObject({
              current_status: "draft",
              requested_status: "paused",
              allowed_actions: ["activate", "cancel"]
            })
            expect(run.missing).toBeInstanceOf(WorkflowNotFound)
            expect(run.missing).toMatchObject({ id: "wfl_doesnotexist1" })
            expect(run.activated.status).toBe("active")
            expect(run.events.data.map((e) => e.type)).toEqual([
              "workflow.activated",
              "workflow.updated",
              "workflow.created"
            ])
          }
          expect(remote.events.data[0]!.actor).toEqual({ type: "api_key", id: server.keyId })
          expect(local.events.data[0]!.actor).toEqual({ type: "system" })
        })
      ))
  })
}
