import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import {
  IdempotencyKeyReused,
  WorkflowNotFound,
  WorkflowStatusConflict,
  WorkflowValidationError
} from "@workflows/domain"
import { Workflows, WorkflowsClient, WorkflowStore } from "@workflows/http"
import { Effect, Layer, Redacted } from "effect"
import { databases, serviceLayer, type TestDatabase } from "./databases.js"
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

/** Retries under one key: a replay, then a key reused with an invalid body (a 422 comes before the 400). */
const retries = Effect.gen(function*() {
  const workflows = yield* Workflows
  const body = { title: "Webinar Follow-up" }
  const first = yield* workflows.create(body, { idempotency_key: "retry-1" })
  const replayed = yield* workflows.create(body, { idempotency_key: "retry-1" })
  const reused = yield* workflows.create({ title: "" }, { idempotency_key: "retry-1" }).pipe(Effect.flip)
  const invalid = yield* workflows.create({ title: "" }, { idempotency_key: "retry-2" }).pipe(Effect.flip)
  const listed = yield* workflows.list()
  return { first, replayed, reused, invalid, listed }
})

/** Runs one program over HTTP against a live server and in-process on a fresh database. */
const bothWays = <A, E>(db: TestDatabase, run: Effect.Effect<A, E, Workflows>) =>
  Effect.gen(function*() {
    const server = yield* liveServer(db)
    const remote = yield* run.pipe(
      Effect.provide(
        WorkflowsClient.layer({ url: server.url, apiKey: Redacted.make(server.key) }).pipe(
          Layer.provide(FetchHttpClient.layer)
        )
      )
    )
    const local = yield* Effect.flatMap(db.fresh, (database) =>
      run.pipe(
        Effect.provide(
          WorkflowStore.layer({ organization_id: ORG_ALPHA }).pipe(Layer.provide(serviceLayer(database)))
        )
      ))
    return { server, remote, local }
  })

for (const db of databases) {
  describe(`the same program in-process and over HTTP (${db.name})`, () => {
    it.live("returns the same values and the same tagged errors", () =>
      Effect.scoped(
        Effect.gen(function*() {
          const { local, remote, server } = yield* bothWays(db, program)
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

    it.live("answers a replay and a reused key with an invalid body alike", () =>
      Effect.scoped(
        Effect.gen(function*() {
          const { local, remote } = yield* bothWays(db, retries)
          for (const run of [remote, local]) {
            expect(run.replayed).toEqual(run.first)
            expect(run.reused).toBeInstanceOf(IdempotencyKeyReused)
            expect(run.reused).toMatchObject({ key: "retry-1" })
            expect(run.invalid).toBeInstanceOf(WorkflowValidationError)
            expect(run.invalid).toMatchObject({ errors: [{ field: "title" }] })
            expect(run.listed.data.map((w) => w.id)).toEqual([run.first.id])
          }
          expect(remote.invalid).toEqual(local.invalid)
        })
      ))
  })
}
