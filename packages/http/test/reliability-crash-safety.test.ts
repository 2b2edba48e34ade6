import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { join } from "node:path"
import { tempDir } from "./databases.js"
import {
  call,
  checkTrail,
  freePort,
  readSqlite,
  type Reply,
  requireBuiltCli,
  serverErrors,
  serverResource,
  sleep,
  startServer,
  stopServer
} from "./reliability-support.js"

/**
 * docs/CONTRACT.md §6 and §8: every write appends its event in the same transaction, and a commit survives
 * a process crash. A real `workflows serve` on a SQLite file takes concurrent PATCH and lifecycle
 * writes and is killed with SIGKILL in the middle of them; the file is then read directly and
 * through a restarted server. Every acknowledged (2xx) write must be there, every trail unbroken,
 * nothing half-written.
 */
requireBuiltCli()

const WORKFLOWS = 10
const WORKERS = 24
const LOAD_MS = 2_000

type Op = "title" | "description" | "pause" | "resume"

interface Sent {
  readonly workflow: string
  readonly op: Op
  readonly requestId: string
  readonly value: string | undefined
  /** `undefined` while in flight or when the connection failed (the kill). */
  reply?: Reply
  error?: string
}

describe("crash safety (SQLite, SIGKILL under load)", () => {
  it.live(
    "every acknowledged write survives kill -9; trails unbroken; nothing half-written",
    () =>
      Effect.scoped(
        Effect.gen(function*() {
          const dir = yield* tempDir
          const filename = join(dir, "workflows.db")
          const databaseUrl = `sqlite:${filename}`
          const port = yield* Effect.promise(freePort)
          // Not a scoped resource: this one dies by SIGKILL mid-test (the release kills it anyway on failure).
          const first = yield* Effect.acquireRelease(Effect.promise(() => startServer(databaseUrl, port)), (server) =>
            Effect.promise(() => stopServer(server)))
          const key = first.bootstrapKey
          expect(key, "a fresh database prints a bootstrap key").toMatch(/^wfk_[A-Za-z0-9]{22,}$/)
          const base = first.url

          const { ids, sent, killedAt } = yield* Effect.promise(async () => {
            const ids: Array<string> = []
            for (let i = 0; i < WORKFLOWS; i++) {
              const created = await call(base, "POST", "/v1/workflows", {
                key: key!,
                json: { title: `Crash workflow ${i}`, description: `initial ${i}`, status: "active" }
              })
              expect(created.status, created.text).toBe(201)
              ids.push(created.body.id)
            }
            const sent: Array<Sent> = []
            let counter = 0
            let stop = false
            const worker = async (w: number) => {
              while (!stop) {
                const n = counter++
                const workflow = ids[(n * 7 + w) % ids.length]!
                const op: Op = (["title", "description", "title", "description", "pause", "resume"] as const)[n % 6]!
                const requestId = `crash-${w}-${n}`
                const value = op === "title"
                  ? `title ${n}`
                  : op === "description"
                  ? `description ${n}\nline two`
                  : undefined
                const entry: Sent = { workflow, op, requestId, value }
                sent.push(entry)
                try {
                  entry.reply = await call(
                    base,
                    op === "title" || op === "description" ? "PATCH" : "POST",
                    op === "title" || op === "description"
                      ? `/v1/workflows/${workflow}`
                      : `/v1/workflows/${workflow}/${op}`,
                    {
                      key: key!,
                      headers: { "x-request-id": requestId },
                      ...(value === undefined ? {} : { json: { [op]: value } }),
                      timeoutMs: 20_000
                    }
                  )
                } catch (error) {
                  entry.error = String(error)
                  stop = true // the server is gone
                }
              }
            }
            const workers = Array.from({ length: WORKERS }, (_, w) =>
              worker(w))
            await sleep(LOAD_MS)
            // Mid-load: requests are in flight on every connection when the process dies.
            const killedAt = sent.length
            first.child.kill("SIGKILL")
            const exit = await first.exited
            expect(exit.signal, "killed by SIGKILL").toBe("SIGKILL")
            stop = true
            await Promise.all(workers)
            return { ids, sent, killedAt }
          })

          const acknowledged = sent.filter((entry) => entry.reply !== undefined && entry.reply.status < 300)
          const unacknowledged = sent.filter((entry) => entry.reply === undefined)
          const statuses = sent.flatMap((entry) => (entry.reply === undefined ? [] : [entry.reply.status]))
          console.log(
            `crash-safety: ${sent.length} writes sent (${killedAt} before the kill), ${acknowledged.length} acknowledged 2xx, ` +
              `${statuses.filter((s) => s === 409).length} × 409, ${unacknowledged.length} cut off by the kill`
          )
          expect(acknowledged.length, "the load really ran").toBeGreaterThan(50)
          expect(unacknowledged.length, "the kill really happened mid-load").toBeGreaterThan(0)
          expect(statuses.filter((status) => status >= 500), "no 5xx before the kill").toEqual([])
          expect(
            statuses.every((status) => status === 200 || status === 409),
            `only 200 and 409: ${[...new Set(statuses)]}`
          ).toBe(true)
          expect(serverErrors(first.output()), "no error logged before the kill").toEqual([])

          // 1. The file as the crash left it, read directly.
          const stored = yield* readSqlite(filename)
          expect(stored.workflows.map((row) => row.id).sort(), "exactly the created workflows").toEqual([...ids].sort())
          const sentIds = new Set(sent.map((entry) => entry.requestId))
          const seenRequestIds = new Set<string>()
          for (const row of stored.workflows) {
            const events = stored.events.filter((event) => event.workflow_id === row.id)
            const states = checkTrail(row, events)
            for (const event of events.slice(1)) {
              // Every event comes from a request we sent to this workflow, and one request makes at most one event.
              expect(sentIds.has(event.request_id!), `event ${event.id} from a request we sent`).toBe(true)
              expect(seenRequestIds.has(event.request_id!), `request ${event.request_id} made one event`).toBe(false)
              seenRequestIds.add(event.request_id!)
              const origin = sent.find((entry) => entry.requestId === event.request_id)!
              expect(origin.workflow, `event ${event.id} on the workflow its request named`).toBe(row.id)
            }
            for (const entry of acknowledged.filter((e) => e.workflow === row.id)) {
              const body = entry.reply!.body
              expect(body.id).toBe(row.id)
              // The state the 2xx response showed is the state after that version in the trail.
              expect(states[body.version], `${entry.requestId}: acknowledged version ${body.version} is in the trail`)
                .toEqual({
                  title: body.title,
                  description: body.description,
                  status: body.status
                })
              if (entry.op === "title" || entry.op === "description") {
                // A PATCH with a fresh value always changes the record: its own event must be there.
                const event = events.find((e) => e.request_id === entry.requestId)
                expect(event, `${entry.requestId}: acknowledged PATCH has its event`).toBeDefined()
                expect(event!.type).toBe("workflow.updated")
                expect(event!.changes[entry.op]?.to).toBe(entry.value)
                expect(events.indexOf(event!) + 1, `${entry.requestId}: its event is version ${body.version}`).toBe(
                  body.version
                )
              }
            }
          }
          // No orphan events (an event without its row, or of a workflow we did not create).
          expect(stored.events.filter((event) => !ids.includes(event.workflow_id))).toEqual([])

          // 2. A restarted server on the same file: no new bootstrap key, same data, writes work.
          const second = yield* serverResource(databaseUrl)
          expect(second.bootstrapKey, "the restarted server finds the key and prints none").toBeUndefined()
          yield* Effect.promise(async () => {
            for (const row of stored.workflows) {
              const got = await call(second.url, "GET", `/v1/workflows/${row.id}`, { key: key! })
              expect(got.status, got.text).toBe(200)
              expect(got.body.version).toBe(row.version)
              expect(got.body.title).toBe(row.title)
              expect(got.body.description).toBe(row.description)
              expect(got.body.status).toBe(row.status)
              const patched = await call(second.url, "PATCH", `/v1/workflows/${row.id}`, {
                key: key!,
                json: { title: `after restart ${row.id}` },
                headers: { "if-match": `"${row.version}"` }
              })
              expect(patched.status, patched.text).toBe(200)
              expect(patched.body.version).toBe(row.version + 1)
            }
          })
          yield* Effect.promise(() => stopServer(second, "SIGTERM"))
          const after = yield* readSqlite(filename)
          for (const row of after.workflows) {
            checkTrail(row, after.events.filter((event) => event.workflow_id === row.id))
          }
          expect(serverErrors(second.output()), "no error logged after the restart").toEqual([])
        })
      ),
    90_000
  )
})
