import { describe, expect, it } from "@effect/vitest"
import type { Actor, ListQueryInput, WorkflowStatus } from "@workflows/domain"
import type { Page, WorkflowsService } from "@workflows/http"
import { Effect } from "effect"
import { databases, withService } from "./databases.js"
import { apiFor, eventsOf, insertWorkflow, ORG_A, ORG_B, type WorkflowRow } from "./support.js"

const fieldsOf = (error: unknown) =>
  (error as { readonly errors: ReadonlyArray<{ readonly field: string | null }> }).errors.map((e) => e.field)

/** Ids that sort the same under any collation: lowercase letters and digits, one length. */
const randomId = () =>
  `wfl_${
    Array.from({ length: 12 }, () => "0123456789abcdefghijklmnopqrstuvwxyz"[Math.floor(Math.random() * 36)]).join("")
  }`

/** The newest-first order the contract asks for: `created_at` descending, then `id` descending. */
const newestFirst = (rows: ReadonlyArray<WorkflowRow>) =>
  [...rows].sort((a, b) =>
    a.created_at !== b.created_at ? (a.created_at < b.created_at ? 1 : -1) : a.id < b.id ? 1 : a.id > b.id ? -1 : 0
  ).map((r) => r.id)

/** 25 workflows over 5 instants (so many share a `created_at`), in a random insertion order. */
const seed = Effect.gen(function*() {
  const statuses: ReadonlyArray<WorkflowStatus> = ["draft", "active", "paused", "running", "cancelled"]
  const specs = Array.from({ length: 25 }, (_, i) => ({
    id: randomId(),
    created_at: `2024-05-0${1 + (i % 5)}T10:00:00.${String(100 + (i % 3)).padStart(3, "0")}Z`,
    status: statuses[i % 5]!
  })).sort(() => Math.random() - 0.5)
  const rows: Array<WorkflowRow> = []
  for (const spec of specs) rows.push(yield* insertWorkflow({ ...spec, updated_at: spec.created_at }))
  yield* insertWorkflow({ organization_id: ORG_B, created_at: "2030-01-01T00:00:00.000Z" })
  return rows
})

/** Follows `starting_after` from the first page to the last, checking `has_more` on the way. */
const walk = <A extends { readonly id: string }>(
  fetch: (query: ListQueryInput) => Effect.Effect<Page<A>, unknown>,
  query: ListQueryInput
) =>
  Effect.gen(function*() {
    const seen: Array<A> = []
    const sizes: Array<number> = []
    let cursor: string | undefined
    for (let guard = 0; guard < 100; guard++) {
      const page = yield* fetch({ ...query, ...(cursor === undefined ? {} : { starting_after: cursor }) })
      seen.push(...page.data)
      sizes.push(page.data.length)
      if (!page.has_more) return { ids: seen.map((a) => a.id), sizes }
      expect(page.data.length).toBe(Number(query.limit ?? 20))
      cursor = page.data[page.data.length - 1]!.id
    }
    throw new Error("pagination did not end")
  })

const expectValidation = (error: unknown, field: string) =>
  expect(error).toEqual(
    expect.objectContaining({ _tag: "WorkflowValidationError", errors: [expect.objectContaining({ field })] })
  )

for (const db of databases) {
  describe.concurrent(db.name, () => {
    describe("list", () => {
      it.live("newest first (created_at desc, id desc); pages walk every workflow once, in order", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            const rows = yield* seed
            const expected = newestFirst(rows)
            expect((yield* api.list({ limit: 100 })).data.map((w) => w.id)).toEqual(expected)
            for (const limit of [1, 4, 5, 24, 25]) {
              const { ids, sizes } = yield* walk((q) => api.list(q), { limit })
              expect(ids, `limit ${limit}`).toEqual(expected)
              expect(sizes.reduce((a, b) => a + b, 0), `limit ${limit}`).toBe(25)
            }
          })
        ))

      it.live("limit: default 20, bounds 1–100, has_more exact at the edges", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            const empty = yield* api.list()
            expect(empty).toEqual({ data: [], has_more: false })
            yield* seed
            const first = yield* api.list()
            expect(first.data).toHaveLength(20)
            expect(first.has_more).toBe(true)
            expect((yield* api.list({ limit: 25 })).has_more).toBe(false)
            expect((yield* api.list({ limit: 24 })).has_more).toBe(true)
            expect((yield* api.list({ limit: 100 })).data).toHaveLength(25)
            expect((yield* api.list({ limit: 1 })).data).toHaveLength(1)
            expect((yield* api.list({ limit: "7" })).data).toHaveLength(7)
            for (const limit of [0, 101, -1, 1.5, Number.NaN, "0", "101", "abc", "", "5x", " 5"]) {
              expectValidation(yield* Effect.flip(api.list({ limit })), "limit")
            }
          })
        ))

      it.live("status filter: active includes running, paginates, and an unknown status is a validation error", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            const rows = yield* seed
            const activeOrRunning = newestFirst(rows.filter((r) => r.status === "active" || r.status === "running"))
            expect(activeOrRunning).toHaveLength(10)
            const { ids } = yield* walk((q) => api.list(q), { status: "active", limit: 3 })
            expect(ids).toEqual(activeOrRunning)
            const paused = (yield* api.list({ status: "paused" })).data
            expect(paused.map((w) => w.id)).toEqual(newestFirst(rows.filter((r) => r.status === "paused")))
            expect(yield* api.list({ status: "completed" })).toEqual({ data: [], has_more: false })
            expectValidation(yield* Effect.flip(api.list({ status: "bogus" })), "status")
            expectValidation(yield* Effect.flip(api.list({ status: "ACTIVE" })), "status")
          })
        ))

      it.live("an unknown or malformed cursor is a validation error naming starting_after", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            yield* seed
            for (const cursor of ["wfl_000000000000", "evt_abc", "not a cursor!", "x".repeat(81), ""]) {
              expectValidation(yield* Effect.flip(api.list({ starting_after: cursor })), "starting_after")
            }
            const both = yield* Effect.flip(api.list({ limit: 0, starting_after: "bad cursor" }))
            expect([...fieldsOf(both)].sort()).toEqual(["limit", "starting_after"])
          })
        ))

      it.live("keyset pagination: workflows created mid-walk never duplicate or shift later pages", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            const rows = yield* seed
            const firstPage = yield* api.list({ limit: 10 })
            yield* api.create({ title: "Newest of all" })
            yield* insertWorkflow({ created_at: "2024-05-01T10:00:00.000Z", id: "wfl_000000000000" })
            const rest = yield* walk((q) => api.list(q), { limit: 10, starting_after: firstPage.data[9]!.id })
            const ids = [...firstPage.data.map((w) => w.id), ...rest.ids]
            expect(new Set(ids).size).toBe(ids.length)
            expect(ids).toEqual([...newestFirst(rows), "wfl_000000000000"])
          })
        ))
    })

    describe("events", () => {
      const history = (api: WorkflowsService) =>
        Effect.gen(function*() {
          const created = yield* api.create({ title: "History", status: "active" })
          for (let i = 0; i < 6; i++) yield* api.update(created.id, { title: `History ${i}` })
          yield* api.pause(created.id, { body: { reason: "break" } })
          yield* api.resume(created.id)
          yield* api.cancel(created.id)
          return created
        })

      it.live("newest first, as stored, with pagination walking every event once", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            const created = yield* history(api)
            const stored = yield* eventsOf(created.id)
            expect(stored).toHaveLength(10)
            const page = yield* api.events(created.id)
            expect(page.has_more).toBe(false)
            expect(page.data.map((e) => e.id)).toEqual(stored.map((e) => e.id).reverse())
            expect(page.data.map((e) => e.type)).toEqual([
              "workflow.cancelled",
              "workflow.resumed",
              "workflow.paused",
              ...Array.from({ length: 6 }, () => "workflow.updated"),
              "workflow.created"
            ])
            // the API returns exactly what is stored
            const { seq: _seq, ...newest } = stored[stored.length - 1]!
            const returned = page.data[0]!
            expect({
              id: returned.id,
              workflow_id: returned.workflow_id,
              organization_id: returned.organization_id,
              type: returned.type,
              actor: returned.actor,
              request_id: returned.request_id,
              reason: returned.reason,
              changes: returned.changes,
              created_at: returned.created_at.toJSON()
            }).toEqual(newest)
            expect(page.data[2]!.reason).toBe("break")
            for (const limit of [1, 3, 4, 10]) {
              const { ids } = yield* walk((q) => api.events(created.id, q), { limit })
              expect(ids, `limit ${limit}`).toEqual(stored.map((e) => e.id).reverse())
            }
            const two = yield* api.events(created.id, { limit: 2 })
            expect(two.has_more).toBe(true)
            expect(two.data).toHaveLength(2)
          })
        ))

      // With tracing off (as `workflows serve` runs) SQLite takes its prepared statements, else `@effect/sql`.
      for (const tracing of [false, true]) {
        it.live(`an actor is stored with its own fields only, whatever else it carries (tracing ${tracing})`, () =>
          withService(db)(
            Effect.gen(function*() {
              // A program's actor typed as Actor may still carry more (here a secret): none of it is stored.
              const actor: Actor = Object.assign({ type: "api_key" as const, id: "key_carrier01" }, { secret: "s3" })
              const api = yield* apiFor(ORG_A, { actor })
              const created = yield* api.create({ title: "Carried" })
              yield* api.update(created.id, { title: "Carried on" })
              const own = { type: "api_key", id: "key_carrier01" }
              expect((yield* eventsOf(created.id)).map((e) => e.actor)).toStrictEqual([own, own])
              expect((yield* api.events(created.id)).data.map((e) => e.actor)).toStrictEqual([own, own])
            }).pipe(Effect.withTracerEnabled(tracing))
          ))
      }

      it.live("events: bad limit, a status filter, unknown cursors and unknown workflows are rejected", () =>
        withService(db)(
          Effect.gen(function*() {
            const api = yield* apiFor(ORG_A)
            const created = yield* history(api)
            const other = yield* api.create({ title: "Other" })
            const otherEvent = (yield* eventsOf(other.id))[0]!
            expectValidation(yield* Effect.flip(api.events(created.id, { limit: 0 })), "limit")
            expectValidation(yield* Effect.flip(api.events(created.id, { limit: 101 })), "limit")
            expectValidation(yield* Effect.flip(api.events(created.id, { status: "active" })), "status")
            expectValidation(
              yield* Effect.flip(api.events(created.id, { starting_after: "evt_doesnotexist" })),
              "starting_after"
            )
            expectValidation(
              yield* Effect.flip(api.events(created.id, { starting_after: otherEvent.id })),
              "starting_after"
            )
            expectValidation(
              yield* Effect.flip(api.events(created.id, { starting_after: created.id })),
              "starting_after"
            )
            expect(yield* Effect.flip(api.events("wfl_doesnotexist"))).toEqual(
              expect.objectContaining({ _tag: "WorkflowNotFound", id: "wfl_doesnotexist" })
            )
            expect(yield* Effect.flip(api.events("../etc/passwd"))).toEqual(
              expect.objectContaining({ _tag: "WorkflowNotFound", id: "../etc/passwd" })
            )
            expect((yield* api.events(other.id)).data.map((e) => e.id)).toEqual([otherEvent.id])
          })
        ))
    })
  })
}
