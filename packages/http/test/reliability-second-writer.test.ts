import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { join } from "node:path"
import { tempDir } from "./databases.js"
import {
  BIN,
  call,
  checkTrail,
  readSqlite,
  requireBuiltCli,
  serverErrors,
  serverResource,
  sleep,
  stopServer
} from "./reliability-support.js"

/**
 * Two clients on one SQLite file used to fail with SQLITE_BUSY_SNAPSHOT. docs/CONTRACT.md §7/§10:
 * `workflows keys create` runs as a second process on the database of a running server. Under
 * concurrent PATCH load it must succeed every time, its key must work at once, and no request of
 * the load may see the contention (no 5xx).
 */
requireBuiltCli()

const WORKERS = 16
const MIN_LOAD_MS = 3_000
const CLI_TIMEOUT_MS = 45_000

interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly startedAt: number
  readonly endedAt: number
}

const keysCreate = (databaseUrl: string, name: string) =>
  new Promise<CliRun>((resolve) => {
    const startedAt = performance.now()
    const env = { ...process.env }
    delete env.DATABASE_URL
    const child = spawn(process.execPath, [
      BIN,
      "keys",
      "create",
      "--org",
      "org_default",
      "--name",
      name,
      "--json",
      "--database",
      databaseUrl
    ], {
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), CLI_TIMEOUT_MS)
    child.once("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, startedAt, endedAt: performance.now() })
    })
  })

describe("a second writer process on the server's SQLite file", () => {
  it.live(
    "`workflows keys create` × 3 under PATCH load: each succeeds, its key works, the load sees no 5xx",
    () =>
      Effect.scoped(
        Effect.gen(function*() {
          const dir = yield* tempDir
          const filename = join(dir, "workflows.db")
          const databaseUrl = `sqlite:${filename}`
          const server = yield* serverResource(databaseUrl)
          const key = server.bootstrapKey!
          expect(key).toMatch(/^wfk_/)
          const base = server.url

          const { replies, runs, ids } = yield* Effect.promise(async () => {
            const ids: Array<string> = []
            for (let i = 0; i < 8; i++) {
              const created = await call(base, "POST", "/v1/workflows", {
                key,
                json: { title: `Second writer ${i}`, status: "active" }
              })
              expect(created.status, created.text).toBe(201)
              ids.push(created.body.id)
            }
            const replies: Array<{ status: number; text: string; at: number }> = []
            let stop = false
            let n = 0
            const worker = async (w: number) => {
              while (!stop) {
                const i = n++
                const id = ids[(i + w) % ids.length]!
                const body = i % 2 === 0 ? { title: `load ${i}` } : { description: `load ${i}` }
                try {
                  const reply = await call(base, "PATCH", `/v1/workflows/${id}`, { key, json: body, timeoutMs: 20_000 })
                  replies.push({ status: reply.status, text: reply.text.slice(0, 300), at: performance.now() })
                } catch (error) {
                  replies.push({ status: 0, text: String(error), at: performance.now() })
                }
              }
            }
            const loadStarted = performance.now()
            const workers = Array.from({ length: WORKERS }, (_, w) => worker(w))
            await sleep(300)
            // Three second writers, staggered so they overlap the load and each other.
            const runs = await Promise.all(
              [0, 600, 1_200].map(async (delay, i) => {
                await sleep(delay)
                return keysCreate(databaseUrl, `second-writer-${i}`)
              })
            )
            const remaining = MIN_LOAD_MS - (performance.now() - loadStarted)
            if (remaining > 0) await sleep(remaining)
            stop = true
            await Promise.all(workers)
            return { replies, runs, ids }
          })

          const statuses = replies.map((reply) => reply.status)
          const byStatus = statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {})
          const windows = runs.map((run) =>
            replies.filter((reply) => reply.at >= run.startedAt && reply.at <= run.endedAt).length
          )
          console.log(
            `second-writer: ${replies.length} PATCHes under load ${JSON.stringify(byStatus)}; ` +
              `keys create took ${runs.map((run) => Math.round(run.endedAt - run.startedAt)).join(", ")} ms with ${
                windows.join(", ")
              } PATCHes answered meanwhile`
          )
          for (const [i, run] of runs.entries()) {
            expect(run.code, `keys create #${i} exit code; stderr: ${run.stderr}`).toBe(0)
            expect(run.stderr, `keys create #${i} wrote nothing to stderr`).not.toMatch(/SQLITE|BUSY|locked|error/i)
          }
          const created = runs.map((run) =>
            JSON.parse(run.stdout) as { id: string; organization_id: string; name: string; key: string }
          )
          for (const [i, row] of created.entries()) {
            expect(row.organization_id).toBe("org_default")
            expect(row.name).toBe(`second-writer-${i}`)
            expect(row.id).toMatch(/^key_/)
            expect(row.key).toMatch(/^wfk_[A-Za-z0-9]{22,}$/)
          }
          expect(new Set(created.map((row) => row.key)).size, "three distinct keys").toBe(3)
          expect(statuses.filter((status) => status !== 200), "every PATCH of the load succeeded (no 5xx, no failure)")
            .toEqual([])
          expect(windows.every((count) => count > 0), "the load really ran while each second writer ran").toBe(true)
          expect(serverErrors(server.output()), "no SQLITE_BUSY, 5xx or error in the server log").toEqual([])

          // Each new key works against the running server at once (and is of the same organization).
          yield* Effect.promise(async () => {
            for (const [i, row] of created.entries()) {
              const listed = await call(base, "GET", "/v1/workflows?limit=100", { key: row.key })
              expect(listed.status, listed.text).toBe(200)
              expect(listed.body.data.map((w: { id: string }) => w.id).sort()).toEqual([...ids].sort())
              const patched = await call(base, "PATCH", `/v1/workflows/${ids[i]}`, {
                key: row.key,
                json: { title: `by new key ${i}` }
              })
              expect(patched.status, patched.text).toBe(200)
            }
          })
          yield* Effect.promise(() => stopServer(server, "SIGTERM"))
          const stored = yield* readSqlite(filename)
          for (const row of stored.workflows) {
            checkTrail(
              row,
              stored.events.filter((event) => event.workflow_id === row.id)
            )
          }
          const okCount = statuses.length + created.length
          expect(stored.events.length, "one event per create and per changing PATCH").toBe(ids.length + okCount)
        })
      ),
    90_000
  )
})
