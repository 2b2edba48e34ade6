// `npm run test:consumer`: the three packages as another service gets them. Packs the tarballs,
// creates a fresh project in a temporary folder (outside the workspace: no links, no path into
// this checkout; third-party packages come from the registry) and checks, in order:
//   - the client entry point installs and loads without a database driver or @effect/sql;
//   - the consumer's program type-checks against the shipped declarations (skipLibCheck off);
//   - one copy of `effect` (and of @workflows/domain) is installed, every peer satisfied (`npm ls`);
//   - (1) the program runs in-process over SQLite, (2) the same program runs through
//     `WorkflowsClient` against `workflows serve` started from the consumer, with the same results;
//   - (3) `npx workflows --help` works from the consumer.
// Any missing shipped file, missing type or duplicate copy fails it. `--keep` keeps the folder.
import { execFileSync, spawn } from "node:child_process"
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const repo = fileURLToPath(new URL("..", import.meta.url))
const keep = process.argv.includes("--keep")
const started = Date.now()
const step = (message) => console.log(`== [${((Date.now() - started) / 1000).toFixed(0)} s] ${message}`)
const fail = (message) => {
  console.error(`consumer test FAILED: ${message}`)
  process.exit(1)
}
const run = (command, args, options = {}) => {
  try {
    return execFileSync(command, args, {
      cwd: consumer,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      ...options
    })
  } catch (error) {
    return fail(`${command} ${args.join(" ")} exited ${error.status}\n${error.stdout ?? ""}${error.stderr ?? ""}`)
  }
}
const npm = (...args) => run("npm", [...args, "--no-audit", "--no-fund", "--prefer-offline"])

// The versions this repository builds and tests with, as the lower bound of what the consumer asks for.
const tested = (name) => JSON.parse(readFileSync(join(repo, "node_modules", name, "package.json"), "utf8")).version

step("npm run pack")
execFileSync("npm", ["run", "pack"], { cwd: repo, stdio: ["ignore", "inherit", "inherit"] })

const consumer = mkdtempSync(join(tmpdir(), "workflows-consumer-"))
let server // the `workflows serve` child, stopped whatever happens
process.on("exit", () => {
  if (server !== undefined && server.exitCode === null) server.kill("SIGKILL")
  if (keep) console.log(`kept ${consumer}`)
  else rmSync(consumer, { recursive: true, force: true })
})
step(`fresh project in ${consumer}`)
// The tarballs are copied in, as a downloaded package would be: nothing points back into this checkout.
mkdirSync(join(consumer, "tarballs"))
const tarballs = Object.fromEntries(
  readdirSync(join(repo, "dist/tarballs")).map((file) => {
    copyFileSync(join(repo, "dist/tarballs", file), join(consumer, "tarballs", file))
    return [file.replace(/^workflows-(\w+)-.*$/, "$1"), `./tarballs/${file}`]
  })
)
cpSync(join(repo, "scripts/consumer"), consumer, { recursive: true })
writeFileSync(
  join(consumer, "package.json"),
  JSON.stringify({ name: "consumer", private: true, type: "module", allowScripts: { "better-sqlite3": true } }, null, 2)
)

step("install the client only: @workflows/domain, @workflows/http, effect, @effect/platform")
npm(
  "install",
  tarballs.domain,
  tarballs.http,
  `effect@^${tested("effect")}`,
  `@effect/platform@^${tested("@effect/platform")}`,
  `typescript@~${tested("typescript")}`,
  "@types/node@^20"
)
for (const absent of ["better-sqlite3", "pg", "@effect/sql", "@effect/sql-pg"]) {
  if (existsSync(join(consumer, "node_modules", absent))) fail(`the client alone installed ${absent}`)
}
const loaded = run("node", [
  "--input-type=module",
  "-e",
  "const m = await import('@workflows/http/client'); console.log(typeof m.WorkflowsClient.layerConfig, typeof m.Workflows)"
])
if (loaded.trim() !== "object function") fail(`@workflows/http/client loaded as: ${loaded}`)
run("npx", ["tsc", "-p", "tsconfig.client.json"])

step("install the rest: @workflows/cli, @effect/platform-node, @effect/sql and the SQLite driver (better-sqlite3)")
npm(
  "install",
  tarballs.cli,
  `@effect/platform-node@^${tested("@effect/platform-node")}`,
  `@effect/sql@^${tested("@effect/sql")}`,
  `better-sqlite3@^${tested("better-sqlite3")}`
)

step("npm ls: one effect, every peer satisfied")
run("npm", ["ls", "--all"]) // exits non-zero on a missing or invalid peer
for (const name of ["effect", "@workflows/domain", "@effect/platform"]) {
  const copies = run("npm", ["ls", name, "--all", "--parseable"]).trim().split("\n").filter((line) => line !== "")
  if (new Set(copies).size !== 1) fail(`${name} is installed ${copies.length} times:\n${copies.join("\n")}`)
}

step("type-check the whole consumer")
run("npx", ["tsc", "-p", "tsconfig.json"])

step("(1) in-process over SQLite")
const local = JSON.parse(run("node", ["dist/in-process.js", join(consumer, "in-process.db")]))

step("(2) through WorkflowsClient against `workflows serve` from the consumer")
server = spawn(join(consumer, "node_modules/.bin/workflows"), [
  "serve",
  "--port",
  "0",
  "--database",
  `sqlite:${join(consumer, "server.db")}`
], {
  cwd: consumer,
  stdio: ["ignore", "pipe", "inherit"]
})
const { key, url } = await new Promise((resolveStart, rejectStart) => {
  let output = ""
  const timer = setTimeout(() => rejectStart(new Error(`server did not start within 60 s:\n${output}`)), 60_000)
  server.stdout.on("data", (chunk) => {
    output += chunk
    const key = /^\s+(wfk_\S+)$/m.exec(output)?.[1]
    const url = /workflows listening on (http:\/\/\S+)/.exec(output)?.[1]
    if (key !== undefined && url !== undefined) {
      clearTimeout(timer)
      resolveStart({ key, url })
    }
  })
  server.on("exit", (code) => rejectStart(new Error(`server exited ${code}:\n${output}`)))
}).catch((error) => fail(error.message))
const remote = JSON.parse(
  run("node", ["dist/remote.js"], { env: { ...process.env, WORKFLOWS_URL: url, WORKFLOWS_API_KEY: key } })
)
const stopped = new Promise((resolveStop) => server.on("exit", (code) => resolveStop(code)))
server.kill("SIGTERM")
const code = await stopped
if (code !== 0) fail(`workflows serve exited ${code} on SIGTERM, not 0`)

const expected = {
  renamedTitle: "30-Day Lead Nurture v2",
  renamedVersion: 2,
  conflict: { tag: "WorkflowStatusConflict", isDomainClass: true, allowed: ["activate", "cancel"] },
  missing: { tag: "WorkflowNotFound", isDomainClass: true },
  activatedStatus: "active",
  eventTypes: ["workflow.activated", "workflow.updated", "workflow.created"]
}
for (const [name, summary] of [["in-process", local], ["remote", remote]]) {
  if (JSON.stringify(summary) !== JSON.stringify(expected)) {
    fail(
      `${name} program returned\n${JSON.stringify(summary, null, 2)}\nexpected\n${JSON.stringify(expected, null, 2)}`
    )
  }
}

step("(3) npx workflows --help")
const help = run("npx", ["workflows", "--help"])
for (const command of ["serve", "migrate", "keys", "activate", "events"]) {
  if (!help.includes(command)) fail(`workflows --help does not list ${command}:\n${help}`)
}

step("consumer test passed")
