import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import { Unauthorized } from "@workflows/domain"
import { type BulkFile, BulkUpdate, ServiceUnavailable, Workflows, type WorkflowsService } from "@workflows/http"
import { Cause, Effect, Ref, Schedule } from "effect"
import { databases, withService } from "./databases.js"
import { apiFor, eventsOf, insertWorkflow, ORG_B, rowOf, snapshot } from "./support.js"

/**
 * The bulk update as a library function over the in-process `Workflows`: outcomes per row in
 * input order, what is stored afterwards, and that a dry run or a re-run writes nothing.
 */

const row = (line: number, id: string, patch: Record<string, unknown>, version?: number): BulkFile.BulkRow => ({
  line,
  id,
  version,
  patch
})

/** Three workflows to rename, one already renamed, and one of another organization (invisible: not found). */
const fixture = Effect.gen(function*() {
  const a = yield* insertWorkflow({ title: "Renewals", description: "old", version: 1 })
  const b = yield* insertWorkflow({ title: "Win-back", version: 4 })
  const c = yield* insertWorkflow({ title: "Outreach", description: null, status: "completed", version: 1 })
  const done = yield* insertWorkflow({ title: "EMEA: Nurture", version: 1 })
  const d = yield* insertWorkflow({ title: "Closed", description: null, status: "cancelled", version: 1 })
  const foreign = yield* insertWorkflow({ organization_id: ORG_B, title: "Foreign", version: 1 })
  const rows = [
    row(2, a.id, { title: "EMEA: Renewals", description: null }),
    row(3, "wfl_doesnotexist", { title: "Ghost" }),
    row(4, b.id, { name: "EMEA: Win-back" }, 4),
    row(5, c.id, { title: "bad\u0007bell" }),
    row(6, done.id, { title: "  EMEA: Nurture " }),
    row(7, foreign.id, { title: "Mine now" }),
    // An id one character off c's (never c's own, whatever its last character).
    row(8, c.id.replace(/.$/, (last) => (last === "z" ? "y" : "z")), {}),
    row(9, d.id, { description: "  Closed campaign" }, 2)
  ]
  return { a, b, c, d, done, foreign, rows, service: yield* apiFor() }
})

const outcomes = (results: ReadonlyArray<BulkUpdate.BulkOutcome>) =>
  results.map((r) => [r.line, r.outcome, r.version, r.code ?? null])

for (const db of databases) {
  describe.concurrent(`bulk update over the in-process service (${db.name})`, () => {
    it.live("one outcome per row, in input order; good rows land, failed ones change nothing", () =>
      withService(db)(
        Effect.gen(function*() {
          const { a, b, c, d, done, foreign, rows, service } = yield* fixture
          const results = yield* BulkUpdate.run(rows, { concurrency: 3 }).pipe(
            Effect.provideService(Workflows, service)
          )
          expect(outcomes(results)).toEqual([
            [2, "updated", 2, null],
            [3, "failed", null, "not_found"],
            [4, "updated", 5, null],
            [5, "failed", 1, "validation_failed"],
            [6, "unchanged", 1, null],
            [7, "failed", null, "not_found"],
            [8, "failed", null, "not_found"],
            [9, "failed", 1, "precondition_failed"]
          ])
          expect(results.map((r) => r.id)).toEqual(rows.map((r) => r.id))
          expect(results[3]!.message).toMatch(/^title: /)
          expect(results[7]!.message).toMatch(/If-Match "2" does not match the current ETag "1"/)
          expect(yield* rowOf(a.id)).toMatchObject({ title: "EMEA: Renewals", description: null, version: 2 })
          expect(yield* rowOf(b.id)).toMatchObject({ title: "EMEA: Win-back", version: 5 })
          expect(yield* rowOf(c.id)).toMatchObject({ title: "Outreach", description: null, version: 1 })
          expect(yield* rowOf(done.id)).toMatchObject({ title: "EMEA: Nurture", version: 1 })
          expect(yield* rowOf(d.id)).toMatchObject({ description: null, version: 1 })
          expect(yield* rowOf(foreign.id)).toMatchObject({ title: "Foreign", version: 1 })
          expect((yield* eventsOf(a.id)).map((e) => e.changes)).toEqual([
            { title: { from: "Renewals", to: "EMEA: Renewals" }, description: { from: "old", to: null } }
          ])
          expect(yield* eventsOf(done.id)).toEqual([])
          expect(BulkUpdate.summarize(results)).toEqual({
            updated: 2,
            unchanged: 1,
            failed: 5,
            would_update: 0,
            would_fail: 0
          })
        })
      ))

    it.live("a dry run writes nothing and predicts the real run row by row; a re-run is all unchanged", () =>
      withService(db)(
        Effect.gen(function*() {
          const { rows, service } = yield* fixture
          const run = (dryRun: boolean) =>
            BulkUpdate.run(rows, { dryRun }).pipe(Effect.provideService(Workflows, service))
          const before = yield* snapshot
          const dry = yield* run(true)
          expect(yield* snapshot).toEqual(before)
          const real = yield* run(false)
          const predicted = { would_update: "updated", would_fail: "failed", unchanged: "unchanged" } as Record<
            string,
            string
          >
          expect(real.map((r) => [r.outcome, r.code])).toEqual(dry.map((r) => [predicted[r.outcome], r.code]))
          expect(dry.map((r) => r.version)).toEqual([1, null, 4, 1, 1, null, null, 1])

          const written = yield* snapshot
          const again = yield* run(false)
          expect(yield* snapshot).toEqual(written)
          expect(again.filter((r) => r.code === undefined).map((r) => r.outcome)).toEqual([
            "unchanged",
            "unchanged",
            "unchanged"
          ])
          expect(again.map((r) => r.version)).toEqual(real.map((r) => r.version))
          // The versioned row (line 4) was applied: its values already hold, so its old version is no failure.
          expect(again[2]).toMatchObject({ outcome: "unchanged", version: 5 })
        })
      ))

    it.live("a change between the read and the write is the service's to judge: a versioned row then fails, unwritten", () =>
      withService(db)(
        Effect.gen(function*() {
          const service = yield* apiFor()
          const w = yield* service.create({ title: "Renewals" })
          // Another writer renames the workflow right after the bulk update has read it.
          const racing: WorkflowsService = {
            ...service,
            get: (id) =>
              Effect.tap(service.get(id), () => service.update(id, { title: "Renewals (theirs)" }).pipe(Effect.orDie))
          }
          const [result] = yield* BulkUpdate.run([row(2, w.id, { title: "EMEA: Renewals" }, 1)]).pipe(
            Effect.provideService(Workflows, racing)
          )
          expect(result).toMatchObject({ outcome: "failed", code: "precondition_failed", version: 2 })
          expect(yield* rowOf(w.id)).toMatchObject({ title: "Renewals (theirs)", version: 2 })
        })
      ))

    it.live("rows run at most `concurrency` at a time; transient failures are retried, a refused key stops the run", () =>
      withService(db)(
        Effect.gen(function*() {
          const service = yield* apiFor()
          const created = yield* Effect.forEach(
            Array.from({ length: 12 }, (_, i) => i),
            (i) => service.create({ title: `Workflow ${i}` })
          )
          const rows = created.map((w, i) => row(i + 2, w.id, { title: `Renamed ${i}` }))
          const inFlight = yield* Ref.make(0)
          const peak = yield* Ref.make(0)
          const failuresLeft = yield* Ref.make(6)
          const busy = Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" })
          // Every update takes a moment and the first six fail as a locked database does.
          const flaky: WorkflowsService = {
            ...service,
            update: (id, patch, options) =>
              Effect.acquireUseRelease(
                Ref.updateAndGet(inFlight, (n) => n + 1).pipe(
                  Effect.tap((n) => Ref.update(peak, (p) => Math.max(p, n)))
                ),
                () =>
                  Effect.sleep("5 millis").pipe(
                    Effect.zipRight(Ref.getAndUpdate(failuresLeft, (n) => Math.max(0, n - 1))),
                    Effect.flatMap((left) => (left > 0 ? Effect.die(busy) : service.update(id, patch, options)))
                  ),
                () => Ref.update(inFlight, (n) => n - 1)
              )
          }
          const retry = Schedule.recurs(10)
          const results = yield* BulkUpdate.run(rows, { concurrency: 4, retry }).pipe(
            Effect.provideService(Workflows, flaky)
          )
          expect(results.map((r) => r.outcome)).toEqual(rows.map(() => "updated"))
          expect(yield* Ref.get(peak)).toBeLessThanOrEqual(4)
          expect(yield* Ref.get(peak)).toBeGreaterThan(1)
          for (const [i, w] of created.entries()) {
            expect(yield* rowOf(w.id)).toMatchObject({ title: `Renamed ${i}`, version: 2 })
          }

          const refused: WorkflowsService = {
            ...service,
            get: () => Effect.die(new Unauthorized({ reason: "the API key was revoked" }))
          }
          const stopped = yield* BulkUpdate.run(rows, { retry }).pipe(
            Effect.provideService(Workflows, refused),
            Effect.sandbox,
            Effect.flip
          )
          expect(Cause.squash(stopped)).toBeInstanceOf(Unauthorized)
        })
      ))
  })
}

describe("which failures are retried", () => {
  const request = HttpClientRequest.patch("http://127.0.0.1:1/v1/workflows/wfl_a")
  const response = (status: number) =>
    new HttpClientError.ResponseError({
      request,
      response: HttpClientResponse.fromWeb(request, new Response("", { status })),
      reason: "StatusCode"
    })

  it("503 (the server's problem or a bare one), a request that got no answer, and a database that is unavailable; nothing else", () => {
    expect(
      BulkUpdate.isTransient(
        new ServiceUnavailable({ detail: "The database is unavailable right now; retry shortly." })
      )
    ).toBe(true)
    expect(BulkUpdate.isTransient(response(503))).toBe(true)
    expect(BulkUpdate.isTransient(new HttpClientError.RequestError({ request, reason: "Transport" }))).toBe(true)
    expect(BulkUpdate.isTransient(Object.assign(new Error("locked"), { code: "SQLITE_BUSY" }))).toBe(true)
    expect(BulkUpdate.isTransient(response(500))).toBe(false)
    expect(BulkUpdate.isTransient(new HttpClientError.RequestError({ request, reason: "InvalidUrl" }))).toBe(false)
    expect(BulkUpdate.isTransient(new Unauthorized({ reason: "revoked" }))).toBe(false)
  })
})
