import { describe, expect, it } from "@effect/vitest"
import { Sql } from "@workflows/http"
import { Effect, Layer, Redacted } from "effect"
import { databases } from "./databases.js"
import { freePort, requireBuiltCli, serverResource, startServer, stopServer } from "./reliability-support.js"

/**
 * docs/CONTRACT.md §8: server instances are stateless, so several run against one PostgreSQL database,
 * and may start together on an empty one. Two real `workflows serve` processes share one database
 * while 2 × 200 concurrent PATCH and lifecycle requests for the same workflows are split across them.
 */
const postgres = databases.find((db) => db.name === "postgres")
const freshPostgres = postgres?.fresh ?? Effect.dieMessage("set WORKFLOWS_TEST_PG_URL to run this suite")

interface Reply {
  readonly status: number
  readonly body: any
}

const request = (base: string, key: string, method: string, path: string, body?: unknown): Promise<Reply> =>
  fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  }).then(async (response) => ({ status: response.status, body: await response.json() }))

const allEvents = async (base: string, key: string, id: string) => {
  const events: Array<any> = []
  let cursor: string | undefined
  for (;;) {
    const page = await request(
      base,
      key,
      "GET",
      `/v1/workflows/${id}/events?limit=100${cursor ? `&starting_after=${cursor}` : ""}`
    )
    events.push(...page.body.data)
    if (!page.body.has_more) return events.reverse() // oldest first
    cursor = page.body.data.at(-1).id
  }
}

describe.skipIf(postgres === undefined)("two instances on one PostgreSQL database", () => {
  it.live(
    "four database clients migrating one empty database at the same moment all succeed (10 rounds)",
    () =>
      Effect.gen(function*() {
        for (let round = 0; round < 10; round++) {
          const outcomes = yield* Effect.scoped(
            Effect.gen(function*() {
              const database = yield* freshPostgres
              // Each build is a separate pool that migrates before it is ready, as an instance starting.
              const start = Effect.exit(Effect.scoped(Layer.build(Sql.layer(database))))
              return yield* Effect.all([start, start, start, start], { concurrency: "unbounded" })
            })
          )
          expect(outcomes.filter((exit) => exit._tag === "Failure").map(String), `round ${round}`).toEqual([])
        }
      }),
    120_000
  )

  it.live(
    "two instances started at the same moment on an empty database both migrate and start, and one bootstraps a key (3 rounds)",
    () =>
      Effect.gen(function*() {
        requireBuiltCli()
        for (let round = 0; round < 3; round++) {
          yield* Effect.scoped(
            Effect.gen(function*() {
              const database = yield* freshPostgres
              if (database._tag !== "Postgres") throw new Error("expected a PostgreSQL database")
              const url = Redacted.value(database.url)
              const ports = yield* Effect.promise(() => Promise.all([freePort(), freePort()]))
              const starts = yield* Effect.promise(() =>
                Promise.allSettled(ports.map((port) => startServer(url, port)))
              )
              yield* Effect.promise(() =>
                Promise.all(starts.map((start) => (start.status === "fulfilled" ? stopServer(start.value) : undefined)))
              )
              const failures = starts.flatMap((start) => (start.status === "rejected" ? [String(start.reason)] : []))
              expect(failures, `round ${round}`).toEqual([])
              const keys = starts.flatMap((start) =>
                start.status === "fulfilled" && start.value.bootstrapKey !== undefined ? [start.value.bootstrapKey] : []
              )
              expect(keys, `round ${round}: one bootstrap key`).toHaveLength(1)
            })
          )
        }
      }),
    180_000
  )

  it.live(
    "2 × 200 concurrent writes: no 5xx, unbroken event chains, version = 1 + changing writes",
    () =>
      Effect.scoped(
        Effect.gen(function*() {
          const database = yield* freshPostgres
          if (database._tag !== "Postgres") throw new Error("expected a PostgreSQL database")
          const url = Redacted.value(database.url)
          requireBuiltCli()
          const a = yield* serverResource(url)
          const key = a.bootstrapKey
          expect(key, "the first instance bootstraps a key").toBeDefined()
          const b = yield* serverResource(url)
          expect(b.bootstrapKey, "the second instance finds the key and creates none").toBeUndefined()
          const bases = [a.url, b.url]

          const results = yield* Effect.promise(async () => {
            const ids: Array<string> = []
            for (let i = 0; i < 4; i++) {
              const created = await request(bases[i % 2]!, key!, "POST", "/v1/workflows", {
                title: `Workflow ${i}`,
                status: "active"
              })
              ids.push(created.body.id)
            }
            const calls = Array.from({ length: 400 }, (_, i) => {
              const base = bases[i % 2]!
              const id = ids[i % ids.length]!
              switch (i % 5) {
                case 0:
                case 1:
                  return request(base, key!, "PATCH", `/v1/workflows/${id}`, { title: `title ${i}` })
                case 2:
                  return request(base, key!, "PATCH", `/v1/workflows/${id}`, { description: `description ${i}` })
                case 3:
                  return request(base, key!, "POST", `/v1/workflows/${id}/pause`)
                default:
                  return request(base, key!, "POST", `/v1/workflows/${id}/resume`)
              }
            })
            return { ids, replies: await Promise.all(calls) }
          })

          const statuses = results.replies.map((reply) => reply.status)
          expect(statuses.filter((status) => status >= 500)).toEqual([])
          expect(statuses.every((status) => status === 200 || status === 409)).toBe(true)

          for (const id of results.ids) {
            const [events, row] = yield* Effect.promise(() =>
              Promise.all([allEvents(bases[0]!, key!, id), request(bases[1]!, key!, "GET", `/v1/workflows/${id}`)])
            )
            expect(events[0].type).toBe("workflow.created")
            const current: Record<string, string | null> = { title: null, description: null, status: null }
            for (const event of events) {
              for (const [field, change] of Object.entries<{ from: string | null; to: string | null }>(event.changes)) {
                expect(change.from, `${id} ${field} chain`).toBe(current[field] ?? null)
                current[field] = change.to
              }
            }
            expect(row.body.version).toBe(events.length) // 1 for the create + one per changing write
            expect(row.body.title).toBe(current.title)
            expect(row.body.description).toBe(current.description)
            expect(row.body.status).toBe(current.status)
          }
        })
      ),
    120_000
  )
})
