import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** The real binary, as `npx workflows` runs it (built by `tsc -b`). */
export const BIN = fileURLToPath(new URL("../bin/workflows.js", import.meta.url))

export interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The environment without anything that would change what the CLI does. */
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  for (const name of ["WORKFLOWS_URL", "WORKFLOWS_API_KEY", "DATABASE_URL", "PORT", "HOST", "WORKFLOWS_DEBUG"]) {
    delete env[name]
  }
  return { ...env, NO_COLOR: "1" }
}

/** Runs `workflows ARGS…` to completion, with `input` on its standard input when given. */
export const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}, input?: string): Promise<Result> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...cleanEnv(), ...env },
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"]
    })
    if (input !== undefined) child.stdin!.end(input)
    let stdout = ""
    let stderr = ""
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

/** A port nothing listens on right now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export const tempDir = (): { readonly path: string; readonly remove: () => void } => {
  const path = mkdtempSync(join(tmpdir(), "workflows-cli-"))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

export interface RunningServer {
  readonly url: string
  readonly port: number
  readonly database: string
  /** The bootstrap key `serve` printed on first start. */
  readonly apiKey: string
  readonly output: () => string
  readonly stop: () => Promise<void>
  /** The exit code once the process has exited, else `null`. */
  readonly exitCode: () => number | null
}

/**
 * `workflows serve` on a free port and a fresh SQLite file; resolves once it says it is listening.
 * `nodeFlags` go to `node` before the binary (V8's logs, say).
 */
export const startServer = async (directory: string, nodeFlags: ReadonlyArray<string> = []): Promise<RunningServer> => {
  const port = await freePort()
  const database = `sqlite:${join(directory, "server.db")}`
  const child: ChildProcess = spawn(process.execPath, [
    ...nodeFlags,
    BIN,
    "serve",
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
    "--database",
    database
  ], {
    env: cleanEnv(),
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  const listening = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString("utf8")
      if (output.includes("listening on")) resolve()
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.once("exit", (code) => reject(new Error(`serve exited with ${code} before listening:\n${output}`)))
  })
  await listening
  const apiKey = /wfk_[0-9A-Za-z]+/.exec(output)?.[0]
  if (apiKey === undefined) throw new Error(`serve printed no bootstrap key:\n${output}`)
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    database,
    apiKey,
    output: () => output,
    exitCode: () => child.exitCode,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once("exit", () => resolve())
        child.kill("SIGTERM")
      })
  }
}

/** Strips ANSI colours, which the help text carries. */
// eslint-disable-next-line no-control-regex -- the ANSI escape character is what it removes
export const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, "")

/** The value of `key` in a `key  value` block. */
export const field = (block: string, key: string): string | undefined =>
  new RegExp(`^${key} +(.*)$`, "m").exec(block)?.[1]
