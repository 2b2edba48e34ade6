import { expect } from "@effect/vitest"
import { Sql } from "@workflows/http"
import { Effect, Layer } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { type EventRow, snapshot, type WorkflowRow } from "./support.js"

export { call, type CallOptions, type Reply } from "./fetch-support.js"

/**
 * Helpers of the reliability suite: real `workflows serve` processes on a temp SQLite file
 * (killable with SIGKILL), a bounded `fetch`, direct reads of the database file, and the
 * event-chain invariants every workflow must satisfy whatever happened to the server.
 */

export const BIN = fileURLToPath(new URL("../../cli/bin/workflows.js", import.meta.url))

/** The bin imports the build (dist/bin.js or the esbuild bundle): it must exist before a test spawns it. */
export const requireBuiltCli = () => {
  const target = /import\s+"([^"]+)"/.exec(readFileSync(BIN, "utf8"))?.[1]
  if (target === undefined || !existsSync(fileURLToPath(new URL(target, new URL("../../cli/bin/", import.meta.url))))) {
    throw new Error(
      `packages/cli is not built (${
        target ?? "no import"
      } is missing): run \`npm run build\` before the reliability tests`
    )
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(
        () => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")))
      )
    })
  })

export interface ServerProcess {
  readonly child: ChildProcess
  readonly url: string
  readonly port: number
  /** The bootstrap key, when this start created one. */
  readonly bootstrapKey: string | undefined
  /** Everything the process printed so far (stdout and stderr). */
  readonly output: () => string
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  readonly alive: () => boolean
}

const START_TIMEOUT_MS = 45_000

/**
 * Starts `workflows serve` on a free loopback port and resolves once it prints "listening on".
 * stdout/stderr are collected in memory (read continuously, so the pipe never fills up).
 */
export const startServer = (databaseUrl: string, port: number): Promise<ServerProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      BIN,
      "serve",
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "--database",
      databaseUrl
    ], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const chunks: Array<string> = []
    const output = () => chunks.join("")
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once("exit", (code, signal) => done({ code, signal }))
    )
    const alive = () => child.exitCode === null && child.signalCode === null
    let started = false
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`server on port ${port} did not start within ${START_TIMEOUT_MS} ms:\n${output()}`))
    }, START_TIMEOUT_MS)
    const onData = (chunk: Buffer) => {
      chunks.push(chunk.toString("utf8"))
      if (!started && output().includes("listening on")) {
        started = true
        clearTimeout(timer)
        resolve({
          child,
          port,
          url: `http://127.0.0.1:${port}`,
          bootstrapKey: /wfk_[A-Za-z0-9]+/.exec(output())?.[0],
          output,
          exited,
          alive
        })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    void exited.then(({ code, signal }) => {
      if (!started) {
        clearTimeout(timer)
        reject(new Error(`server exited (${code ?? signal}) before listening:\n${output()}`))
      }
    })
  })

/** SIGKILL (or `signal`) and wait for the exit; a no-op for a process that is gone. */
export const stopServer = async (server: ServerProcess, signal: NodeJS.Signals = "SIGKILL") => {
  if (server.alive()) server.child.kill(signal)
  await Promise.race([server.exited, sleep(15_000)])
  if (server.alive()) {
    server.child.kill("SIGKILL")
    await server.exited
  }
}

/** `startServer` as a scoped resource: always killed when the scope closes, the test failing or not. */
export const serverResource = (databaseUrl: string, port?: number) =>
  Effect.acquireRelease(
    Effect.promise(async () => startServer(databaseUrl, port ?? (await freePort()))),
    (server) => Effect.promise(() => stopServer(server))
  )

export const pool = async <A>(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<A>
): Promise<Array<A>> => {
  const results: Array<A> = new Array(count)
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      results[i] = await task(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return results
}

/** Everything stored in a SQLite database file, read directly (not through the server). */
export const readSqlite = (filename: string) =>
  Effect.scoped(Effect.provide(snapshot, Sql.layer(Sql.Database.Sqlite({ filename })).pipe(Layer.orDie)))

export interface WorkflowState {
  readonly title: string | null
  readonly description: string | null
  readonly status: string | null
}

/**
 * Checks the invariants of one workflow's audit trail against its row and returns its state
 * after each version (index = version): first event `workflow.created`, one event per version,
 * every field's `from` equal to the previous `to`, and the replayed state equal to the row.
 */
export const checkTrail = (row: WorkflowRow, events: ReadonlyArray<EventRow>): Array<WorkflowState> => {
  const where = `workflow ${row.id}`
  expect(events.length, `${where}: has events`).toBeGreaterThan(0)
  expect(events[0]!.type, `${where}: first event`).toBe("workflow.created")
  expect(
    events.slice(1).map((event) => event.type).filter((type) => type === "workflow.created"),
    `${where}: one creation`
  ).toEqual([])
  expect(row.version, `${where}: version == number of events`).toBe(events.length)
  const states: Array<WorkflowState> = [{ title: null, description: null, status: null }]
  let current: Record<string, string | null> = { title: null, description: null, status: null }
  events.forEach((event, index) => {
    expect(event.workflow_id, `${where}: event ${event.id} belongs to it`).toBe(row.id)
    expect(Object.keys(event.changes).length, `${where}: event ${index + 1} changes something`).toBeGreaterThan(0)
    const next = { ...current }
    for (const [field, change] of Object.entries(event.changes)) {
      expect(["title", "description", "status"], `${where}: event ${index + 1} field ${field}`).toContain(field)
      expect(change.from, `${where}: ${field} chain at event ${index + 1} (${event.type})`).toBe(current[field] ?? null)
      expect(change.to, `${where}: ${field} event ${index + 1} is a real change`).not.toBe(change.from)
      next[field] = change.to
    }
    current = next
    states.push({
      title: current.title ?? null,
      description: current.description ?? null,
      status: current.status ?? null
    })
  })
  expect({ title: row.title, description: row.description, status: row.status }, `${where}: row == replayed events`)
    .toEqual(states.at(-1))
  return states
}

export const readLog = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "")

/** Lines of a server's output that report a 5xx or an error-level log (a defect, an SQL failure). */
export const serverErrors = (output: string) =>
  output.split("\n").filter((line) =>
    /\bstatus=5\d\d\b/.test(line) || /\blevel=(ERROR|FATAL)\b/.test(line) || /SQLITE_BUSY/.test(line)
  )
