import { describe, expect, it } from "@effect/vitest"
import { OrganizationId } from "@workflows/domain"
import { Sql, Workflows, WorkflowStore } from "@workflows/http"
import { Effect, Layer } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

describe("smoke", () => {
  it.live("create + update", () =>
    Effect.gen(function* () {
      const w = yield* Workflows
      const created = yield* w.create({ title: "A" })
      const updated = yield* w.update(created.id, { name: "B" })
      expect(updated.title).toBe("B")
      const events = yield* w.events(created.id)
      expect(events.data.map((e) => e.type)).toEqual(["workflow.updated", "workflow.created"])
      const paused = yield* w.activate(created.id).pipe(Effect.zipRight(w.pause(created.id)))
      expect(paused.status).toBe("paused")
    }).pipe(
      Effect.provide(
        Workflows.layer({ organization_id: OrganizationId.make("org_default") }).pipe(
          Layer.provide(WorkflowStore.Default),
          Layer.provide(Sql.layer(Sql.Database.Sqlite({ filename: join(mkdtempSync(join(tmpdir(), "wf-")), "db.sqlite") })))
        )
      )
    ))
})
