#!/usr/bin/env node
// `npm run soak [-- --duration S --connections N --workflows N]`: a mixed PATCH / GET / lifecycle
// load on `workflows serve` for S seconds (default 60) at N connections (default 64) over 100
// workflows, on a temp SQLite file, or on PostgreSQL when DATABASE_URL is a postgres:// URL.
// Fails (exit 1) on any 5xx, connection error or timeout, on a broken event chain, or when the
// server's RSS grows by 20% or more after the first 10 s. Not part of `npm test`.
import autocannon from "autocannon"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { freePort, sleep } from "./support.mjs"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const BIN = path.join(ROOT, "packages/cli/bin/workflows.js")
const START_TIMEOUT_MS = 120_000
const USAGE = "usage: npm run soak -- [--duration S (60)] [--connections N (64)] [--workflows N (100)] [--keep-log]"
const RSS_BASELINE_S = 10
const RSS_GROWTH_LIMIT = 0.2

// ------------------------------------------------------------------------------------------------
// Flags

const die = (message) => {
  console.error(`soak: ${message}`)
  process.exit(2)
}
const flags = { duration: 60, connections: 64, workflows: 100, keepLog: false }
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i]
  const [name, inline] = arg.startsWith("--") ? arg.slice(2).split("=", 2) : [undefined, undefined]
  if (name === "help" || arg === "-h") {
    console.log(USAGE)
    process.exit(0)
  } else if (name === "keep-log") flags.keepLog = true
  else if (name === "duration" || name === "connections" || name === "workflows") {
    const raw = inline ?? process.argv[++i]
    const value = Number(raw)
    if (!Number.isInteger(value) || value <= 0) die(`--${name} needs a positive integer, got ${raw}`)
    flags[name] = value
  } else die(`unknown argument ${arg}\n${USAGE}`)
}
if (flags.duration > 3_600 || flags.connections > 1_024 || flags.workflows > 10_000) {
  die("refusing an unbounded run: --duration ≤ 3600, --connections ≤ 1024, --workflows ≤ 10000")
}

// ------------------------------------------------------------------------------------------------
// Processes and temp files: always cleaned up, on failure and on signals too.

const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "workflows-soak-"))
const children = new Set()
const cleanup = () => {
  for (const child of children) {
    try {
      child.kill("SIGKILL")
    } catch {
      // gone
    }
  }
  if (!flags.keepLog) fs.rmSync(tempDir, { recursive: true, force: true })
}
process.on("exit", cleanup)
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    console.error(`\nsoak: ${signal}, stopping`)
    process.exit(130)
  })
}

const run = (args, env) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] })
    children.add(child)
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
    child.once("exit", (code) => {
      clearTimeout(timer)
      children.delete(child)
      resolve({ code, stdout, stderr })
    })
  })

const databaseUrl = process.env.DATABASE_URL?.match(/^postgres(ql)?:\/\//)
  ? process.env.DATABASE_URL
  : `sqlite:${path.join(tempDir, "soak.db")}`
const onPostgres = databaseUrl.startsWith("postgres")
const env = { ...process.env, DATABASE_URL: databaseUrl }
const logPath = path.join(tempDir, "server.log")

const startServer = async (port) => {
  const fd = fs.openSync(logPath, "a")
  const child = spawn(process.execPath, [BIN, "serve", "--port", String(port), "--host", "127.0.0.1"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", fd, fd]
  })
  fs.closeSync(fd)
  children.add(child)
  child.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })))
  child.exited.then(({ code, signal }) => {
    children.delete(child)
    if (!child.stopping) console.error(`soak: the server exited unexpectedly (code ${code}, signal ${signal})`)
  })
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    const text = fs.readFileSync(logPath, "utf8")
    if (text.includes("listening on")) return { child, bootstrapKey: /wfk_[A-Za-z0-9]+/.exec(text)?.[0] }
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited before listening:\n${text.slice(-2_000)}`)
    }
    await sleep(100)
  }
  throw new Error(`server did not listen within ${START_TIMEOUT_MS} ms`)
}

const stopServer = async (child) => {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.stopping = true
  child.kill("SIGTERM")
  if ((await Promise.race([child.exited, sleep(10_000).then(() => null)])) === null) {
    child.kill("SIGKILL")
    await child.exited
  }
}

const rssKb = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1])
  } catch {
    return Number.NaN
  }
}

// ------------------------------------------------------------------------------------------------
// HTTP helpers (loopback only)

const api = async (base, key, method, urlPath, body) => {
  const response = await fetch(`${base}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    signal: AbortSignal.timeout(30_000),
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) }
}

const allEvents = async (base, key, id) => {
  const events = []
  let cursor
  for (let page = 0; page < 10_000; page++) {
    const reply = await api(
      base,
      key,
      "GET",
      `/v1/workflows/${id}/events?limit=100${cursor ? `&starting_after=${cursor}` : ""}`
    )
    if (reply.status !== 200) throw new Error(`events of ${id}: ${reply.status} ${JSON.stringify(reply.body)}`)
    events.push(...reply.body.data)
    if (!reply.body.has_more) return events.reverse() // oldest first
    cursor = reply.body.data.at(-1).id
  }
  throw new Error(`events of ${id}: too many pages`)
}

/** Problems with one workflow's trail: `[]` when the chain is unbroken and matches the row. */
const trailProblems = (row, events) => {
  const problems = []
  if (events[0]?.type !== "workflow.created") problems.push(`first event is ${events[0]?.type}`)
  if (row.version !== events.length) problems.push(`version ${row.version} but ${events.length} events`)
  const current = { title: null, description: null, status: null }
  events.forEach((event, i) => {
    for (const [field, change] of Object.entries(event.changes)) {
      if ((current[field] ?? null) !== change.from) {
        problems.push(`event ${i + 1} ${field}.from ${JSON.stringify(change.from)} ≠ ${JSON.stringify(current[field])}`)
      }
      if (change.from === change.to) problems.push(`event ${i + 1} ${field} changes nothing`)
      current[field] = change.to
    }
  })
  for (const field of ["title", "description", "status"]) {
    if (row[field] !== current[field]) {
      problems.push(`row ${field} ${JSON.stringify(row[field])} ≠ replayed ${JSON.stringify(current[field])}`)
    }
  }
  return problems
}

// ------------------------------------------------------------------------------------------------

const main = async () => {
  const failures = []
  const port = await freePort()
  console.log(
    `soak: ${flags.duration} s, ${flags.connections} connections, ${flags.workflows} workflows, ${
      onPostgres ? "PostgreSQL (DATABASE_URL)" : "temp SQLite file"
    }`
  )
  const { child: server, bootstrapKey } = await startServer(port)
  const base = `http://127.0.0.1:${port}`
  let key = bootstrapKey
  if (key === undefined) {
    // A database that already has keys (PostgreSQL): a fresh organization of our own, through the CLI.
    const org = `org_soak${Date.now().toString(36)}`
    const created = await run(["keys", "create", "--org", org, "--name", "soak", "--json"], env)
    if (created.code !== 0) throw new Error(`keys create failed: ${created.stderr}`)
    key = JSON.parse(created.stdout).key
  }

  const ids = []
  for (let i = 0; i < flags.workflows; i += 10) {
    const batch = await Promise.all(
      Array.from(
        { length: Math.min(10, flags.workflows - i) },
        (_, j) =>
          api(base, key, "POST", "/v1/workflows", { title: `Soak ${i + j}`, description: "soak", status: "active" })
      )
    )
    for (const reply of batch) {
      if (reply.status !== 201) throw new Error(`create: ${reply.status} ${JSON.stringify(reply.body)}`)
      ids.push(reply.body.id)
    }
  }

  // RSS of the server process, every second from the start of the load.
  const samples = []
  const loadStarted = Date.now()
  const sampler = setInterval(
    () => samples.push({ t: (Date.now() - loadStarted) / 1000, kb: rssKb(server.pid) }),
    1_000
  )

  const statuses = {}
  const bad = []
  let n = 0
  const auth = { authorization: `Bearer ${key}` }
  const json = { ...auth, "content-type": "application/json" }
  const result = await autocannon({
    url: base,
    connections: flags.connections,
    duration: flags.duration,
    timeout: 20,
    requests: [
      {
        setupRequest: (request) => {
          const i = n++
          const id = ids[Math.floor(Math.random() * ids.length)]
          const roll = Math.random()
          if (roll < 0.25) {
            return {
              ...request,
              method: "PATCH",
              path: `/v1/workflows/${id}`,
              headers: json,
              body: JSON.stringify({ title: `soak title ${i}` })
            }
          }
          if (roll < 0.45) {
            return {
              ...request,
              method: "PATCH",
              path: `/v1/workflows/${id}`,
              headers: json,
              body: JSON.stringify({ description: `soak description ${i}` })
            }
          }
          if (roll < 0.8) {
            return { ...request, method: "GET", path: `/v1/workflows/${id}`, headers: auth, body: undefined }
          }
          if (roll < 0.85) {
            return {
              ...request,
              method: "GET",
              path: `/v1/workflows/${id}/events?limit=5`,
              headers: auth,
              body: undefined
            }
          }
          return {
            ...request,
            method: "POST",
            path: `/v1/workflows/${id}/${roll < 0.925 ? "pause" : "resume"}`,
            headers: auth,
            body: undefined
          }
        },
        onResponse: (status, body) => {
          statuses[status] = (statuses[status] ?? 0) + 1
          if (status >= 500 && bad.length < 10) bad.push(`${status} ${String(body).slice(0, 300)}`)
        }
      }
    ]
  })
  clearInterval(sampler)

  const total = Object.values(statuses).reduce((a, b) => a + b, 0)
  const fiveXx = Object.entries(statuses).filter(([status]) => Number(status) >= 500).reduce(
    (a, [, count]) => a + count,
    0
  )
  const unexpected = Object.entries(statuses).filter(([status]) => status !== "200")
  if (fiveXx > 0) failures.push(`${fiveXx} responses were 5xx: ${bad.join(" | ")}`)
  if (unexpected.length > 0) failures.push(`statuses other than 200: ${JSON.stringify(Object.fromEntries(unexpected))}`)
  if (result.errors > 0) failures.push(`${result.errors} connection errors`)
  if (result.timeouts > 0) failures.push(`${result.timeouts} requests timed out`)
  if (total === 0) failures.push("no request was answered")

  // RSS: the first sample at or after 10 s is the baseline (or the first one, for a run shorter than that).
  const valid = samples.filter((sample) => Number.isFinite(sample.kb))
  const baseline = valid.find((sample) => sample.t >= RSS_BASELINE_S) ?? valid[0]
  const last = valid.at(-1)
  const peak = valid.reduce((max, sample) => Math.max(max, sample.kb), 0)
  const growth = baseline && last ? (last.kb - baseline.kb) / baseline.kb : Number.NaN
  if (!(growth < RSS_GROWTH_LIMIT)) {
    failures.push(`RSS grew ${(growth * 100).toFixed(1)}% after ${RSS_BASELINE_S} s (limit ${RSS_GROWTH_LIMIT * 100}%)`)
  }

  // Every workflow's trail, read back through the API.
  let events = 0
  let broken = 0
  for (let i = 0; i < ids.length; i += 8) {
    const checks = await Promise.all(
      ids.slice(i, i + 8).map(async (id) => {
        const [row, trail] = await Promise.all([api(base, key, "GET", `/v1/workflows/${id}`), allEvents(base, key, id)])
        events += trail.length
        return { id, problems: row.status === 200 ? trailProblems(row.body, trail) : [`GET ${row.status}`] }
      })
    )
    for (const check of checks) {
      if (check.problems.length > 0) {
        broken++
        if (broken <= 5) failures.push(`${check.id}: ${check.problems.slice(0, 3).join("; ")}`)
      }
    }
  }
  if (broken > 0) failures.push(`${broken} of ${ids.length} workflows have a broken event chain`)

  const log = fs.readFileSync(logPath, "utf8")
  const errorLines = log.split("\n").filter((line) => /\bstatus=5\d\d\b|\blevel=(ERROR|FATAL)\b|SQLITE_BUSY/.test(line))
  if (errorLines.length > 0) {
    failures.push(`${errorLines.length} error lines in the server log, first: ${errorLines[0].slice(0, 300)}`)
  }
  await stopServer(server)

  const mb = (kb) => (kb === undefined ? "n/a" : `${(kb / 1024).toFixed(1)} MB`)
  console.log(
    [
      "",
      `requests        ${total} (${
        (total / flags.duration).toFixed(0)
      } req/s; autocannon mean ${result.requests.average} req/s)`,
      `statuses        ${JSON.stringify(statuses)}`,
      `5xx             ${fiveXx}`,
      `errors/timeouts ${result.errors} / ${result.timeouts}`,
      `latency         p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`,
      `RSS             at ${baseline?.t.toFixed(0) ?? "?"} s ${mb(baseline?.kb)}, at end ${mb(last?.kb)} (${
        (growth * 100).toFixed(1)
      }%), peak ${mb(peak)}`,
      `event chains    ${ids.length - broken}/${ids.length} unbroken, ${events} events`,
      flags.keepLog ? `server log      ${logPath}` : "",
      failures.length === 0 ? "soak: PASS" : `soak: FAIL\n  - ${failures.join("\n  - ")}`
    ].join("\n")
  )
  process.exitCode = failures.length === 0 ? 0 : 1
}

main().catch((error) => {
  console.error(`soak: ${error?.stack ?? error}${error?.cause ? `\ncause: ${error.cause?.stack ?? error.cause}` : ""}`)
  try {
    console.error(`server log tail:\n${fs.readFileSync(logPath, "utf8").split("\n").slice(-15).join("\n")}`)
  } catch {
    // no log
  }
  process.exitCode = 1
})
