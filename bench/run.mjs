#!/usr/bin/env node
// `npm run bench [-- flags]`: PATCH /v1/workflows/{id} throughput of `workflows serve` against a
// hand-written node:http + better-sqlite3 reference (bench/reference-server.mjs) doing the same
// database work, on copies of one seeded SQLite database, driven alternately with autocannon.
// Also: `workflows serve` start → first /healthz, `workflows --help` start → exit, bytes allocated
// per request (bench/alloc-probe.mjs), and our GET, list and lifecycle routes (the reference
// serves PATCH only). `--baseline FILE` adds another build of the CLI (e.g. a copy of an older
// packages/cli/dist/bundle with an entry file importing it) as a third server, alternated with
// the others, so a change is measured against what it replaces in the same run.
// Writes bench/RESULTS.md and prints it. Not part of `npm test`.
//
// Flags: --rounds N (3)  --duration S (10)  --warmup S (5)  --connections N (32)  --rows N (10000)
//        --starts N (5)  --quick (1 round of 3 s, 1,000 rows, 2 s warm-up)  --no-pin  --keep  --help
//        --baseline FILE  --routes-duration S (duration ÷ 2)
import autocannon from "autocannon"
import Database from "better-sqlite3"
import { execFileSync, spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"
import { freePort, sleep } from "./support.mjs"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const OUR_SERVER = ["packages/cli/bin/workflows.js", "serve"] // exactly what `npm start` runs
const REFERENCE_SERVER = ["bench/reference-server.mjs"]
const CLI = "packages/cli/bin/workflows.js"
const RESULTS = path.join(ROOT, "bench", "RESULTS.md")
const START_TIMEOUT_MS = 120_000 // a busy machine can take many seconds to load the Effect stack
const STOP_TIMEOUT_MS = 10_000

// ------------------------------------------------------------------------------------------------
// Flags

const USAGE = `usage: npm run bench -- [--rounds N] [--duration S] [--warmup S] [--connections N] [--rows N]
                        [--starts N] [--quick] [--no-pin] [--keep] [--baseline FILE] [--routes-duration S]`

const parseFlags = (argv) => {
  const flags = {}
  const numeric = new Set(["rounds", "duration", "warmup", "connections", "rows", "starts", "routes-duration"])
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const [name, inline] = arg.startsWith("--") ? arg.slice(2).split("=", 2) : [undefined, undefined]
    if (name === "help" || arg === "-h") {
      console.log(USAGE)
      process.exit(0)
    } else if (name === "quick" || name === "keep" || name === "no-pin") {
      flags[name] = true
    } else if (name === "baseline") {
      flags.baseline = inline ?? argv[++i]
      if (flags.baseline === undefined || !fs.existsSync(flags.baseline)) {
        fail(`--baseline needs an existing file, got ${flags.baseline}`)
      }
    } else if (name !== undefined && numeric.has(name)) {
      const raw = inline ?? argv[++i]
      const value = Number(raw)
      if (!Number.isFinite(value) || value <= 0) fail(`--${name} needs a positive number, got ${raw}`)
      flags[name] = value
    } else fail(`unknown argument ${arg}\n${USAGE}`)
  }
  const quick = flags.quick === true
  const options = {
    quick,
    rounds: Math.floor(flags.rounds ?? (quick ? 1 : 3)),
    duration: flags.duration ?? (quick ? 3 : 10),
    warmup: flags.warmup ?? (quick ? 2 : 5),
    connections: Math.floor(flags.connections ?? 32),
    rows: Math.floor(flags.rows ?? (quick ? 1000 : 10_000)),
    starts: Math.floor(flags.starts ?? 5),
    pin: flags["no-pin"] !== true,
    keep: flags.keep === true,
    baseline: flags.baseline,
    routesDuration: flags["routes-duration"] ?? (quick ? 2 : (flags.duration ?? 10) / 2)
  }
  if (options.rounds > 100 || options.duration > 600 || options.warmup > 600 || options.starts > 50) {
    fail("refusing an unbounded run: --rounds ≤ 100, --duration/--warmup ≤ 600 s, --starts ≤ 50")
  }
  return options
}

function fail(message) {
  console.error(`bench: ${message}`)
  process.exit(2)
}

// ------------------------------------------------------------------------------------------------
// Child processes: every one is tracked and killed on exit, failure or signal.

const children = new Set()
let tempDir // removed on a signal too, unless --keep
let keepTemp = false

const killAll = (signal = "SIGKILL") => {
  for (const child of children) {
    try {
      process.kill(child.pid, signal)
    } catch {
      // already gone
    }
  }
}
process.on("exit", () => killAll("SIGKILL"))
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping every server`)
    killAll("SIGKILL")
    if (tempDir !== undefined && !keepTemp) fs.rmSync(tempDir, { recursive: true, force: true })
    process.exit(130)
  })
}

/** Starts `node args…` (pinned to `cpu` when given) with stdout and stderr going to `logPath`. */
const startNode = ({ args, env, logPath, cpu }) => {
  const fd = fs.openSync(logPath, "a")
  const node = [process.execPath, ...args]
  const [command, ...rest] = cpu === undefined ? node : ["taskset", "-c", String(cpu), ...node]
  const started = performance.now()
  // taskset execs node in place, so the pid is the server's own (for /proc/<pid>/…).
  const child = spawn(command, rest, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", fd, fd] })
  fs.closeSync(fd)
  children.add(child)
  child.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })))
  child.exited.then(() => children.delete(child))
  child.once("error", (error) => console.error(`bench: could not start ${args.join(" ")}: ${error.message}`))
  return { child, started, logPath }
}

const stopProcess = async (child) => {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill("SIGTERM")
  const done = await Promise.race([child.exited, sleep(STOP_TIMEOUT_MS).then(() => null)])
  if (done === null) {
    child.kill("SIGKILL")
    await child.exited
  }
}

const tail = (file, lines = 15) => {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n")
  } catch {
    return "(no output)"
  }
}

/** Polls the log until `pattern` appears; fails if the process exits first or time runs out. */
const waitForLog = async ({ child, logPath }, pattern, timeoutMs = START_TIMEOUT_MS) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const text = fs.existsSync(logPath) ? fs.readFileSync(logPath, "utf8") : ""
    const match = pattern.exec(text)
    if (match !== null) return match
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `server exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${tail(logPath)}`
      )
    }
    await sleep(50)
  }
  throw new Error(`no ${pattern} after ${timeoutMs} ms:\n${tail(logPath)}`)
}

// ------------------------------------------------------------------------------------------------
// HTTP (loopback only)

const request = ({ port, method, path: urlPath, headers = {}, body }) =>
  new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path: urlPath, headers, agent: false, timeout: 10_000 },
      (res) => {
        const chunks = []
        res.on("data", (chunk) => chunks.push(chunk))
        res.on("end", () =>
          resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }))
      }
    )
    req.once("timeout", () =>
      req.destroy(new Error("timeout")))
    req.once("error", reject)
    if (body !== undefined) req.write(body)
    req.end()
  })

/** Milliseconds from `started` until GET /healthz first answers 200 (polled every 10 ms). */
const waitForHealthz = async (proc, port, timeoutMs = START_TIMEOUT_MS) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`server exited before /healthz answered:\n${tail(proc.logPath)}`)
    }
    try {
      const res = await request({ port, method: "GET", path: "/healthz" })
      if (res.status === 200) return performance.now() - proc.started
    } catch {
      // not listening yet
    }
    await sleep(10)
  }
  throw new Error(`/healthz did not answer 200 within ${timeoutMs} ms:\n${tail(proc.logPath)}`)
}

// ------------------------------------------------------------------------------------------------
// /proc readings

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100
  } catch {
    return 100
  }
})()

/** utime + stime of the whole process (all threads), in clock ticks. */
const cpuTicks = (pid) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ") // fields[0] is field 3 (state)
  return Number(fields[11]) + Number(fields[12]) // fields 14 and 15
}

/** VmHWM (peak resident set) and VmRSS, in kB. */
const memory = (pid) => {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
  const read = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0)
  return { hwm: read("VmHWM"), rss: read("VmRSS") }
}

/** Samples memory every 200 ms until stopped; returns the peak seen (kB). */
const pollMemory = (pid) => {
  let peak = 0
  const sample = () => {
    try {
      const { hwm, rss } = memory(pid)
      peak = Math.max(peak, hwm, rss)
    } catch {
      // the process is gone; keep what we have
    }
  }
  sample()
  const timer = setInterval(sample, 200)
  return () => {
    clearInterval(timer)
    sample()
    return peak
  }
}

// ------------------------------------------------------------------------------------------------
// Pinning

const allowedCpus = () => {
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1] ?? ""
  const cpus = []
  for (const part of list.split(",")) {
    const [a, b] = part.split("-").map(Number)
    if (Number.isInteger(a)) {
      for (let c = a; c <= (Number.isInteger(b) ? b : a) && cpus.length < 64; c++) cpus.push(c)
    }
  }
  return cpus
}

const setUpPinning = (wanted) => {
  const hasTaskset = spawnSync("taskset", ["-V"], { stdio: "ignore" }).status === 0
  const cpus = allowedCpus()
  if (!wanted) return { server: undefined, bench: undefined, note: "off (--no-pin)" }
  if (!hasTaskset) return { server: undefined, bench: undefined, note: "off (no taskset on this machine)" }
  if (cpus.length < 2) return { server: undefined, bench: undefined, note: `off (only CPU ${cpus.join(",")} allowed)` }
  const [server, bench] = cpus
  // Every thread of this process (autocannon runs here) onto the second core; threads created later inherit it.
  const pinned =
    spawnSync("taskset", ["-a", "-p", "-c", String(bench), String(process.pid)], { stdio: "ignore" }).status === 0
  return {
    server,
    bench: pinned ? bench : undefined,
    note: `servers on CPU ${server} (taskset -c ${server}), bench + autocannon ${
      pinned ? `on CPU ${bench}` : "unpinned (taskset -p failed)"
    }`
  }
}

// ------------------------------------------------------------------------------------------------
// Seeding

const STATUSES = ["draft", "active", "paused", "running", "completed", "cancelled"]
const seedId = (i) => `wfl_b${i.toString(36).padStart(11, "0")}`

/**
 * N workflows of org_default straight into the file the server migrated (one transaction), each
 * with its workflow.created event; then a checkpoint so the file alone holds everything.
 */
const seed = (file, rows, key) => {
  const db = new Database(file, { fileMustExist: true })
  try {
    const hash = createHash("sha256").update(key).digest("hex")
    const owner = db.prepare("SELECT organization_id FROM api_keys WHERE hash = ?").get(hash)
    if (owner?.organization_id !== "org_default") {
      throw new Error("the bootstrap key is not in api_keys for org_default")
    }
    const insertWorkflow = db.prepare(
      `INSERT INTO workflows (id, organization_id, title, description, status, node_count,
      edge_count, enrolled_leads, version, created_at, updated_at) VALUES (?, 'org_default', ?, ?, ?, ?, ?, ?, 1, ?, ?)`
    )
    const insertEvent = db.prepare(
      `INSERT INTO workflow_events (id, workflow_id, organization_id, type, actor, request_id,
      reason, changes, created_at) VALUES (?, ?, 'org_default', 'workflow.created', '{"type":"system"}', NULL, NULL, ?, ?)`
    )
    const base = Date.UTC(2025, 0, 1)
    const ids = []
    db.transaction(() => {
      for (let i = 0; i < rows; i++) {
        const id = seedId(i)
        const title = `Seeded workflow ${i}`
        const description = i % 3 === 0
          ? null
          : `Seeded description ${i}: a campaign of call steps with enrolled leads.`
        const status = STATUSES[i % STATUSES.length]
        const at = new Date(base + i * 1000).toISOString()
        insertWorkflow.run(id, title, description, status, i % 13, i % 11, i % 500, at, at)
        const changes = { title: { from: null, to: title }, status: { from: null, to: status } }
        if (description !== null) changes.description = { from: null, to: description }
        insertEvent.run(`evt_seed${i.toString(36).padStart(12, "0")}`, id, JSON.stringify(changes), at)
        ids.push(id)
      }
    })()
    db.pragma("wal_checkpoint(TRUNCATE)")
    return ids
  } finally {
    db.close()
  }
}

const copyDatabase = (from, to) => {
  fs.copyFileSync(from, to)
  for (const suffix of ["-wal", "-shm"]) if (fs.existsSync(from + suffix)) fs.copyFileSync(from + suffix, to + suffix)
}

// ------------------------------------------------------------------------------------------------
// Contract spot-check: the same requests to both servers, the same answers expected.

const conformance = async (servers, id, key) => {
  const auth = { authorization: `Bearer ${key}` }
  const json = { ...auth, "content-type": "application/json" }
  const cases = [
    { name: "no key", headers: { "content-type": "application/json" }, body: "{\"title\":\"x\"}", expect: 401 },
    { name: "text/plain", headers: { ...auth, "content-type": "text/plain" }, body: "{\"title\":\"x\"}", expect: 415 },
    { name: "70 KB body", headers: json, body: JSON.stringify({ description: "x".repeat(70_000) }), expect: 413 },
    { name: "malformed JSON", headers: json, body: "{\"title\":", expect: 400 },
    { name: "array body", headers: json, body: "[]", expect: 400 },
    { name: "{}", headers: json, body: "{}", expect: 400 },
    { name: "unknown fields", headers: json, body: "{\"titl\":\"x\",\"nodes\":[]}", expect: 400, errors: 2 },
    { name: "control char in title", headers: json, body: "{\"title\":\"a\\u0007b\"}", expect: 400, errors: 1 },
    { name: "version 0", headers: json, body: "{\"version\":0}", expect: 400 },
    {
      name: "missing id",
      path: "/v1/workflows/wfl_doesnotexist0",
      headers: json,
      body: "{\"title\":\"x\"}",
      expect: 404
    },
    {
      name: "id outside pattern",
      path: "/v1/workflows/not-an-id",
      headers: json,
      body: "{\"title\":\"x\"}",
      expect: 404
    },
    { name: "stale If-Match", headers: { ...json, "if-match": "\"999\"" }, body: "{\"title\":\"x\"}", expect: 412 },
    { name: "status change", headers: json, body: "{\"status\":\"cancelled\"}", expect: 409 },
    {
      name: "title trimmed + status echo",
      headers: { ...json, "x-request-id": "bench-check-1" },
      body: "{\"title\":\"  Checked \\t\",\"status\":\"draft\"}",
      expect: 200,
      requestId: "bench-check-1"
    },
    {
      name: "same title: no-op",
      headers: { ...json, "if-match": "\"2\"" },
      body: "{\"name\":\"Checked\"}",
      expect: 200
    },
    {
      name: "description keeps \\n and \\t",
      headers: json,
      body: "{\"description\":\"  line 1\\n\\tline 2  \"}",
      expect: 200
    },
    { name: "blank description → null", headers: json, body: "{\"description\":\"   \"}", expect: 200 }
  ]
  const rows = []
  for (const c of cases) {
    const row = { name: c.name, expect: c.expect, answers: {} }
    for (const server of servers) {
      const res = await request({
        port: server.port,
        method: "PATCH",
        path: c.path ?? `/v1/workflows/${id}`,
        headers: c.headers,
        body: c.body
      })
      let body
      try {
        body = JSON.parse(res.text)
      } catch {
        body = undefined
      }
      const problems = []
      if (res.status !== c.expect) problems.push(`status ${res.status}`)
      if (!res.headers["x-request-id"]) problems.push("no X-Request-Id")
      if (c.requestId !== undefined && res.headers["x-request-id"] !== c.requestId) {
        problems.push("X-Request-Id not echoed")
      }
      if (c.errors !== undefined && body?.errors?.length !== c.errors) problems.push(`${body?.errors?.length} errors`)
      if (res.status === 200) {
        if (body?.name !== body?.title) problems.push("name ≠ title")
        if (res.headers.etag !== `"${body?.version}"`) problems.push("ETag ≠ version")
      } else if (body?.code === undefined) problems.push("no problem code")
      row.answers[server.name] = {
        status: res.status,
        problems,
        summary: res.status === 200
          ? {
            title: body.title,
            description: body.description,
            version: body.version,
            keys: Object.keys(body).join(",")
          }
          : body?.code
      }
    }
    const [a, b] = servers.map((s) => row.answers[s.name])
    row.same = JSON.stringify(a.summary) === JSON.stringify(b.summary) && a.status === b.status
    rows.push(row)
  }
  return rows
}

// ------------------------------------------------------------------------------------------------
// Load

/**
 * Load on one route over rotating ids; `state.seq` runs on across every run. PATCH rotates its
 * bodies so every request is a real write; lifecycle pauses and resumes the seeded active
 * workflows in turn (each server's own record of which is which), also a write each time.
 */
const drive = async ({ port, key, ids, connections, duration, state, route = "patch", server }) => {
  const requests = {
    patch: () => [{
      method: "PATCH",
      setupRequest: (req) => {
        const n = state.seq++
        const id = ids[n % ids.length]
        // Alternate the body kind, shifting each pass over the ids so every row sees both kinds.
        const titleTurn = (n + Math.floor(n / ids.length)) % 2 === 0
        const body = titleTurn
          ? { title: `Bench ${n}` }
          : { description: `Updated by the benchmark, round-robin over the seeded rows: ${n}` }
        return { ...req, path: `/v1/workflows/${id}`, body: JSON.stringify(body) }
      }
    }],
    get: () => [{
      method: "GET",
      setupRequest: (req) => ({ ...req, path: `/v1/workflows/${ids[state.seq++ % ids.length]}` })
    }],
    list: () => [{ method: "GET", path: "/v1/workflows?limit=20" }],
    lifecycle: () => {
      const active = ids.filter((_, i) => STATUSES[i % STATUSES.length] === "active")
      const paused = (state.paused[server] ??= new Set())
      return [{
        method: "POST",
        setupRequest: (req) => {
          const id = active[state.seq++ % active.length]
          const action = paused.has(id) ? "resume" : "pause"
          if (action === "pause") paused.add(id)
          else paused.delete(id)
          return { ...req, path: `/v1/workflows/${id}/${action}`, body: "" }
        }
      }]
    }
  }[route]()
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration,
    timeout: 10,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    requests
  })
}

const assertAlive = (server, when) => {
  const { child } = server.proc
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(
      `${server.name} server exited (${child.exitCode ?? child.signalCode}) ${when}:\n${tail(server.logPath)}`
    )
  }
}

/**
 * Bytes the server allocated and Effect runtime steps it took between two calls
 * (bench/alloc-probe.mjs, toggled by SIGUSR2).
 */
const allocationProbe = async (server) => {
  const out = server.allocOut
  for (const f of [out, `${out}.started`]) fs.rmSync(f, { force: true })
  const waitFor = async (file) => {
    for (let i = 0; i < 200 && !fs.existsSync(file); i++) await sleep(10)
    await sleep(20) // written in one call, but let it land
  }
  process.kill(server.pid, "SIGUSR2")
  await waitFor(`${out}.started`)
  return async () => {
    process.kill(server.pid, "SIGUSR2")
    await waitFor(out)
    try {
      const { bytes, steps } = JSON.parse(fs.readFileSync(out, "utf8"))
      return { bytes, steps }
    } catch {
      return { bytes: NaN, steps: NaN }
    }
  }
}

const measureRound = async (server, options, state, route = "patch", duration = options.duration) => {
  assertAlive(server, "before its round")
  const stopProbe = await allocationProbe(server)
  const ticksBefore = cpuTicks(server.pid)
  const stopPolling = pollMemory(server.pid)
  const result = await drive({
    port: server.port,
    key: state.key,
    ids: state.ids,
    connections: options.connections,
    duration,
    state,
    route,
    server: server.name
  })
  assertAlive(server, "during its round")
  const ticksAfter = cpuTicks(server.pid)
  const peakKb = stopPolling()
  const probed = await stopProbe()
  const requests = result.requests.total
  const cpuSeconds = (ticksAfter - ticksBefore) / CLK_TCK
  return {
    requests,
    seconds: result.duration,
    reqPerSec: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
    peakKb,
    cpuSeconds,
    cpuPer1k: requests > 0 ? cpuSeconds / (requests / 1000) : NaN,
    kbPerRequest: requests > 0 ? probed.bytes / requests / 1024 : NaN,
    stepsPerRequest: requests > 0 ? probed.steps / requests : NaN
  }
}

// ------------------------------------------------------------------------------------------------
// Start-up timings

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const timeStarts = async ({ count, tmp, cpu, args, database, label }) => {
  const times = []
  for (let i = 0; i < count; i++) {
    const dir = fs.mkdtempSync(path.join(tmp, `${label}-start-`))
    const file = database === undefined ? path.join(dir, "fresh.db") : path.join(dir, "copy.db")
    if (database !== undefined) copyDatabase(database, file)
    const port = await freePort()
    const proc = startNode({
      args,
      env: { PORT: String(port), HOST: "127.0.0.1", DATABASE_URL: `sqlite:${file}` },
      logPath: path.join(dir, "server.log"),
      cpu
    })
    try {
      times.push(await waitForHealthz(proc, port))
    } finally {
      await stopProcess(proc.child)
    }
  }
  return times
}

const timeCliHelp = (count, cpu, cli) => {
  const times = []
  for (let i = 0; i < count; i++) {
    const node = [process.execPath, cli, "--help"]
    const [command, ...rest] = cpu === undefined ? node : ["taskset", "-c", String(cpu), ...node]
    const started = performance.now()
    const run = spawnSync(command, rest, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], timeout: START_TIMEOUT_MS })
    const ms = performance.now() - started
    if (run.status !== 0) {
      throw new Error(`workflows --help exited ${run.status ?? run.signal}: ${String(run.stderr).slice(0, 500)}`)
    }
    times.push(ms)
  }
  return times
}

// ------------------------------------------------------------------------------------------------
// Report

/**
 * The performance targets the report checks (32 connections, same run). The allocation target is
 * a quarter of the 450 KB a PATCH allocated when the targets were set.
 */
const TARGETS = { cpuRatio: 3, p99Ms: 30, peakRssMb: 150, allocationKb: 112 }

const fmt = (value, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "—"
const mb = (kb) => fmt(kb / 1024, 0)
const secs = (ms) => `${fmt(ms / 1000, 2)} s`

const countMatchingLines = async (file, needle) => {
  let count = 0
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })
  for await (const line of lines) if (line.includes(needle)) count++
  return count
}

/** p50 and p99 of the `duration_ms` the server logged for its PATCHes: time spent inside it. */
const loggedDurations = async (file) => {
  const durations = []
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })
  for await (const line of lines) {
    const ms = line.includes("PATCH /v1/workflows/") ? /\bduration_ms=([\d.]+)/.exec(line)?.[1] : undefined
    if (ms !== undefined) durations.push(Number(ms))
  }
  durations.sort((a, b) => a - b)
  const at = (q) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))]
  return { p50: at(0.5), p99: at(0.99) }
}

const summarize = (rounds) => ({
  kbPerRequest: median(rounds.map((r) => r.kbPerRequest)),
  stepsPerRequest: median(rounds.map((r) => r.stepsPerRequest)),
  reqPerSec: median(rounds.map((r) => r.reqPerSec)),
  p50: median(rounds.map((r) => r.p50)),
  p99: median(rounds.map((r) => r.p99)),
  cpuPer1k: median(rounds.map((r) => r.cpuPer1k)),
  requests: rounds.reduce((a, r) => a + r.requests, 0),
  non2xx: rounds.reduce((a, r) => a + r.non2xx, 0),
  errors: rounds.reduce((a, r) => a + r.errors, 0),
  timeouts: rounds.reduce((a, r) => a + r.timeouts, 0),
  statusCodes: rounds.reduce((acc, r) => {
    for (const [code, count] of Object.entries(r.statusCodes)) acc[code] = (acc[code] ?? 0) + count
    return acc
  }, {})
})

const report = ({ options, pinning, machine, servers, results, routeResults, starts, cliTimes, checks, integrity }) => {
  const [ours, ref] = servers
  const base = servers.find((s) => s.name === "baseline")
  const sum = Object.fromEntries(servers.map((s) => [s.name, summarize(results.filter((r) => r.server === s.name))]))
  const o = sum[ours.name]
  const r = sum[ref.name]
  const codes = (s) => Object.entries(s.statusCodes).map(([code, n]) => `${code} × ${fmt(n)}`).join(", ") || "—"
  const lines = []
  lines.push("# PATCH benchmark: `workflows serve` vs a hand-written reference", "")
  lines.push(
    `Generated by \`npm run bench${
      process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""
    }\` (bench/run.mjs) on ${machine.date}.`,
    ""
  )
  if (options.quick) lines.push("**Quick run (smoke test): one short round; the numbers are indicative only.**", "")
  lines.push("## Machine", "")
  lines.push(`- ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memGb} GB RAM, Linux ${machine.kernel}`)
  lines.push(`- Node ${process.version}, SQLite ${machine.sqlite} (better-sqlite3), autocannon ${machine.autocannon}`)
  lines.push(
    `- load average at start: ${machine.loadavg} (the machine may be shared and busy: compare the ratios, not the absolute numbers)`
  )
  lines.push(`- pinning: ${pinning.note}; CLK_TCK ${CLK_TCK}`)
  lines.push(`- code: ${machine.git}`, "")
  lines.push("## Parameters", "")
  lines.push(
    `- ${
      fmt(options.rows)
    } seeded workflows (org_default, mixed statuses, one workflow.created event each) in one SQLite file (WAL); each server gets its own copy`
  )
  lines.push(
    `- ${options.rounds} round(s) per server, ${options.duration} s each, alternating (${
      servers.map((s) => s.name).join(" → ")
    } → …); ${options.warmup} s warm-up per server before its first round`
  )
  lines.push(
    `- autocannon, ${options.connections} connections, \`PATCH /v1/workflows/{id}\` over rotating ids with rotating bodies (\`{"title":"Bench <n>"}\` / \`{"description":"…<n>"}\`), so every request is a real write (row update + audit event)`
  )
  lines.push(
    `- figures are medians over rounds; non-2xx and status codes are totals; peak RSS is the highest VmHWM/VmRSS seen (polled every 200 ms)`,
    ""
  )
  lines.push("## Results", "")
  lines.push(
    "| server | req/s | p50 ms | p99 ms | non-2xx | peak RSS MB | CPU s / 1,000 req | CPU µs / req | KB allocated / req | Effect steps / req | start → /healthz |"
  )
  lines.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
  for (const s of servers) {
    const x = sum[s.name]
    const peak = Math.max(...results.filter((q) => q.server === s.name).map((q) => q.peakKb))
    lines.push(
      `| ${s.label} | ${fmt(x.reqPerSec)} | ${fmt(x.p50, 1)} | ${fmt(x.p99, 1)} | ${fmt(x.non2xx)} | ${mb(peak)} | ${
        fmt(x.cpuPer1k, 3)
      } | ${fmt(x.cpuPer1k * 1000)} | ${fmt(x.kbPerRequest)} | ${fmt(x.stepsPerRequest)} | ${
        secs(median(starts[s.name]))
      } |`
    )
  }
  lines.push("")
  lines.push(
    `- **ours / reference: throughput ${fmt(o.reqPerSec / r.reqPerSec, 2)}×, CPU per request ${
      fmt(o.cpuPer1k / r.cpuPer1k, 2)
    }×**, p50 latency ${fmt(o.p50 / r.p50, 1)}×, allocation per request ${fmt(o.kbPerRequest / r.kbPerRequest, 1)}×`
  )
  if (base !== undefined) {
    const b = sum[base.name]
    lines.push(
      `- **ours / baseline: throughput ${fmt(o.reqPerSec / b.reqPerSec, 2)}×, CPU per request ${
        fmt(o.cpuPer1k / b.cpuPer1k, 2)
      }×, allocation per request ${fmt(o.kbPerRequest / b.kbPerRequest, 2)}×, Effect steps per request ${
        fmt(o.stepsPerRequest / b.stepsPerRequest, 2)
      }×**, p99 latency ${fmt(o.p99 / b.p99, 2)}×`
    )
  }
  const peakOf = (name) => Math.max(...results.filter((q) => q.server === name).map((q) => q.peakKb))
  const target = (met, text) => `${text} ${met ? "(met)" : "(not met)"}`
  lines.push(
    `- targets: ${
      [
        target(o.cpuPer1k / r.cpuPer1k <= TARGETS.cpuRatio, `CPU per request ≤ ${TARGETS.cpuRatio}× the reference's`),
        target(o.p99 <= TARGETS.p99Ms, `p99 ≤ ${TARGETS.p99Ms} ms`),
        target(peakOf(ours.name) / 1024 <= TARGETS.peakRssMb, `peak RSS ≤ ${TARGETS.peakRssMb} MB`),
        target(o.kbPerRequest <= TARGETS.allocationKb, `allocation ≤ ${TARGETS.allocationKb} KB per request`)
      ].join("; ")
    }`
  )
  const inside = (name) => `p50 ${fmt(integrity[name].inside.p50, 1)} / p99 ${fmt(integrity[name].inside.p99, 1)} ms`
  lines.push(
    `- time inside the server (its request log's \`duration_ms\`, every PATCH of the run) — ours: ${
      inside(ours.name)
    }; reference: ${inside(ref.name)}. ` +
      `The rest of the latency above is waiting for the one core: with ${options.connections} connections in a closed loop, mean latency = ${options.connections} ÷ throughput, and a request that arrives while the event loop is working through the others can wait nearly two such turns.`
  )
  lines.push(
    `- \`workflows serve\` start → first 200 from /healthz on a fresh database (migrate + bootstrap): median ${
      secs(median(starts[ours.name]))
    } of ${starts[ours.name].length} (${starts[ours.name].map((t) => fmt(t / 1000, 2)).join(", ")} s)`
  )
  lines.push(
    `- reference start → /healthz (existing database): median ${secs(median(starts[ref.name]))} of ${
      starts[ref.name].length
    }`
  )
  if (base !== undefined) {
    lines.push(
      `- baseline start → /healthz (fresh database): median ${
        secs(median(starts.baseline))
      } of ${starts.baseline.length} (${starts.baseline.map((t) => fmt(t / 1000, 2)).join(", ")} s)`
    )
  }
  lines.push(
    `- \`workflows --help\` start → exit: median ${secs(median(cliTimes.ours))} of ${cliTimes.ours.length} (${
      cliTimes.ours.map((t) => fmt(t / 1000, 2)).join(", ")
    } s)`
  )
  if (base !== undefined) {
    lines.push(
      `- baseline \`--help\` start → exit: median ${secs(median(cliTimes.baseline))} of ${cliTimes.baseline.length} (${
        cliTimes.baseline.map((t) => fmt(t / 1000, 2)).join(", ")
      } s)`
    )
  }
  lines.push(`- status codes seen — ours: ${codes(o)}; reference: ${codes(r)}`)
  lines.push(
    `- connection errors / timeouts — ours: ${o.errors} / ${o.timeouts}; reference: ${r.errors} / ${r.timeouts}`,
    ""
  )
  lines.push("### Other routes (ours only: the reference serves PATCH alone)", "")
  lines.push(
    `GET one workflow (rotating ids), list (\`?limit=20\`), lifecycle (pause / resume of the seeded active workflows, a write each); ${options.rounds} round(s) of ${options.routesDuration} s each, medians.`,
    ""
  )
  lines.push(
    "| route | server | req/s | p50 ms | p99 ms | non-2xx | CPU µs / req | KB allocated / req | Effect steps / req |"
  )
  lines.push("|---|---|---:|---:|---:|---:|---:|---:|---:|")
  for (const route of ["get", "list", "lifecycle"]) {
    for (const s of servers.filter((x) => x.name !== "reference")) {
      const x = summarize(routeResults.filter((q) => q.route === route && q.server === s.name))
      lines.push(
        `| ${route} | ${s.name} | ${fmt(x.reqPerSec)} | ${fmt(x.p50, 1)} | ${fmt(x.p99, 1)} | ${fmt(x.non2xx)} | ${
          fmt(x.cpuPer1k * 1000)
        } | ${fmt(x.kbPerRequest)} | ${fmt(x.stepsPerRequest)} |`
      )
    }
    if (base !== undefined) {
      const [x, y] = [ours, base].map((s) =>
        summarize(routeResults.filter((q) => q.route === route && q.server === s.name))
      )
      lines.push(
        `| ${route} | ours / baseline | ${fmt(x.reqPerSec / y.reqPerSec, 2)}× | | | | ${
          fmt(x.cpuPer1k / y.cpuPer1k, 2)
        }× | ${fmt(x.kbPerRequest / y.kbPerRequest, 2)}× | ${fmt(x.stepsPerRequest / y.stepsPerRequest, 2)}× |`
      )
    }
  }
  lines.push("")
  lines.push("### Per round", "")
  lines.push(
    "| round | server | requests | req/s | p50 ms | p99 ms | non-2xx | CPU s | server CPU use | CPU s / 1,000 req | KB / req | peak RSS MB |"
  )
  lines.push("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
  for (const q of results) {
    lines.push(
      `| ${q.round} | ${q.server} | ${fmt(q.requests)} | ${fmt(q.reqPerSec)} | ${fmt(q.p50, 1)} | ${fmt(q.p99, 1)} | ${
        fmt(q.non2xx)
      } | ${fmt(q.cpuSeconds, 2)} | ${fmt((100 * q.cpuSeconds) / q.seconds)} % | ${fmt(q.cpuPer1k, 3)} | ${
        fmt(q.kbPerRequest)
      } | ${mb(q.peakKb)} |`
    )
  }
  lines.push(
    "",
    "A server pinned to one core that shows well under 100 % CPU use while 32 connections wait was short of CPU (other work on that core): its req/s then understates it; CPU per request is steadier but is inflated too on a contended core, so compare the two servers' ratio within one run."
  )
  lines.push("", "### Checks", "")
  const mismatches = checks.filter((c) => !c.same || Object.values(c.answers).some((a) => a.problems.length > 0))
  lines.push(
    mismatches.length === 0
      ? `- contract spot-check: the same ${checks.length} PATCH requests (401, 415, 413, 400 ×6, 404 ×2, 412, 409, 200 ×4 incl. trimming, no-op, description rules) got the same answers from both servers`
      : `- contract spot-check: ${mismatches.length} of ${checks.length} cases differ or are off:`
  )
  for (const c of mismatches) {
    lines.push(
      `  - ${c.name} (expected ${c.expect}): ${
        servers.map((s) =>
          `${s.name} ${c.answers[s.name].status} ${JSON.stringify(c.answers[s.name].summary)}${
            c.answers[s.name].problems.length ? ` [${c.answers[s.name].problems.join("; ")}]` : ""
          }`
        ).join(" vs ")
      }`
    )
  }
  for (const s of servers) {
    const i = integrity[s.name]
    lines.push(
      `- ${s.name}: ${fmt(i.loadEvents)} audit events written by the load for ${
        fmt(i.ok)
      } 200s counted (warm-up included; in-flight requests at each stop add up to ${options.connections} per run); ` +
        `${fmt(i.patchLogLines)} PATCH log lines for ${
          fmt(i.patches)
        } PATCHes counted (checks included); non-2xx during warm-up: ${fmt(i.warmupNon2xx)}`
    )
  }
  lines.push("")
  return lines.join("\n")
}

// ------------------------------------------------------------------------------------------------

const main = async () => {
  const options = parseFlags(process.argv.slice(2))
  const loadAtStart = os.loadavg().map((l) => l.toFixed(2)).join(", ")
  const nproc = os.availableParallelism() // before pinning: afterwards it reports this process's single CPU
  const pinning = setUpPinning(options.pin)
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "workflows-bench-"))
  tempDir = tmp
  keepTemp = options.keep
  const say = (message) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`)
  say(`temp dir ${tmp}; ${pinning.note}`)
  const servers = []
  try {
    if (!fs.existsSync(path.join(ROOT, "packages/cli/dist/bin.js"))) {
      throw new Error("packages/cli/dist/bin.js is missing: run `npm run build` first")
    }

    // 1. Our server creates and migrates the database and prints its bootstrap key; then it stops
    //    and the rows go straight into the file.
    const benchDb = path.join(tmp, "bench.db")
    const refDb = path.join(tmp, "reference.db")
    say("bootstrapping the database with workflows serve")
    const bootPort = await freePort()
    const boot = startNode({
      args: OUR_SERVER,
      env: { PORT: String(bootPort), HOST: "127.0.0.1", DATABASE_URL: `sqlite:${benchDb}` },
      logPath: path.join(tmp, "bootstrap.log"),
      cpu: pinning.server
    })
    const key = (await waitForLog(boot, /\b(wfk_[0-9A-Za-z]{22,128})\b[\s\S]*listening on/))[1]
    await stopProcess(boot.child)
    say(`seeding ${fmt(options.rows)} workflows`)
    const ids = seed(benchDb, options.rows, key)
    copyDatabase(benchDb, refDb)
    const baseDb = path.join(tmp, "baseline.db")
    if (options.baseline !== undefined) copyDatabase(benchDb, baseDb)

    // 2. The servers, each on its own copy, each with the allocation probe preloaded.
    const definitions = [
      { name: "ours", label: "`workflows serve` (Effect 3)", args: OUR_SERVER, db: benchDb, ready: /listening on/ },
      {
        name: "reference",
        label: "reference (node:http + better-sqlite3)",
        args: REFERENCE_SERVER,
        db: refDb,
        ready: /listening on/
      },
      ...(options.baseline === undefined ? [] : [
        {
          name: "baseline",
          label: `baseline (\`${path.relative(ROOT, options.baseline)}\`)`,
          args: [options.baseline, "serve"],
          db: baseDb,
          ready: /listening on/
        }
      ])
    ]
    for (const d of definitions) {
      const port = await freePort()
      const logPath = path.join(tmp, `${d.name}.log`)
      const allocOut = path.join(tmp, `${d.name}.alloc.json`)
      const proc = startNode({
        args: ["--import", "./bench/alloc-probe.mjs", ...d.args],
        env: { PORT: String(port), HOST: "127.0.0.1", DATABASE_URL: `sqlite:${d.db}`, ALLOC_PROBE_OUT: allocOut },
        logPath,
        cpu: pinning.server
      })
      servers.push({ ...d, port, proc, pid: proc.child.pid, logPath, allocOut })
    }
    for (const s of servers) {
      await waitForLog(s.proc, s.ready)
      await waitForHealthz(s.proc, s.port)
      say(`${s.name} up on 127.0.0.1:${s.port} (pid ${s.pid})`)
    }

    // 3. The same requests to both: the reference must really implement the contract.
    const checks = await conformance(servers, ids[0], key)
    const bad = checks.filter((c) => !c.same || Object.values(c.answers).some((a) => a.problems.length > 0))
    say(`contract spot-check: ${checks.length - bad.length}/${checks.length} cases agree`)

    // 4. Warm-up, then alternating rounds.
    const state = { key, ids, seq: 0, paused: {} }
    const results = []
    const warmedUp = new Set()
    const warmups = {}
    for (let round = 1; round <= options.rounds; round++) {
      for (const s of servers) {
        if (!warmedUp.has(s.name)) {
          say(`warming up ${s.name} for ${options.warmup} s`)
          assertAlive(s, "before its warm-up")
          const warm = await drive({
            port: s.port,
            key,
            ids,
            connections: options.connections,
            duration: options.warmup,
            state
          })
          warmups[s.name] = {
            requests: warm.requests.total,
            ok: warm.statusCodeStats["200"]?.count ?? 0,
            non2xx: warm.non2xx
          }
          warmedUp.add(s.name)
        }
        say(`round ${round}/${options.rounds}: ${s.name}, ${options.duration} s`)
        const measured = await measureRound(s, options, state)
        results.push({ round, server: s.name, ...measured })
        say(
          `  ${fmt(measured.reqPerSec)} req/s, p50 ${fmt(measured.p50, 1)} ms, p99 ${
            fmt(measured.p99, 1)
          } ms, non-2xx ${measured.non2xx}, errors ${measured.errors}, CPU ${fmt(measured.cpuPer1k, 3)} s/1k`
        )
      }
    }

    // 4b. Our other routes, alternating with the baseline when there is one (the reference has none).
    const routeResults = []
    const ourServers = servers.filter((s) => s.name !== "reference")
    for (const route of ["get", "list", "lifecycle"]) {
      for (const s of ourServers) {
        await drive({
          port: s.port,
          key,
          ids,
          connections: options.connections,
          duration: 1,
          state,
          route,
          server: s.name
        })
      }
      for (let round = 1; round <= options.rounds; round++) {
        for (const s of ourServers) {
          say(`${route}, round ${round}/${options.rounds}: ${s.name}, ${options.routesDuration} s`)
          const measured = await measureRound(s, options, state, route, options.routesDuration)
          routeResults.push({ route, round, server: s.name, ...measured })
        }
      }
    }
    for (const s of servers) await stopProcess(s.proc.child)

    // Equal work: every 200 of the load (warm-up included) wrote one audit event, and every
    // PATCH logged one line. Requests still in flight when autocannon stops are answered (and
    // written, and logged) after its count closes, so the server's numbers may run a little over.
    const integrity = {}
    for (const s of servers) {
      const db = new Database(s.db, { readonly: true, fileMustExist: true })
      const loadEvents = db.prepare(`SELECT count(*) AS n FROM workflow_events WHERE type = 'workflow.updated'
        AND (changes LIKE '%"to":"Bench %' OR changes LIKE '%"to":"Updated by the benchmark%')`).get().n
      db.close()
      const mine = results.filter((q) => q.server === s.name)
      integrity[s.name] = {
        loadEvents,
        ok: warmups[s.name].ok + mine.reduce((a, q) => a + (q.statusCodes["200"] ?? 0), 0),
        patchLogLines: await countMatchingLines(s.logPath, "PATCH /v1/workflows/"),
        inside: await loggedDurations(s.logPath),
        patches: warmups[s.name].requests + mine.reduce((a, q) => a + q.requests, 0) + checks.length,
        warmupNon2xx: warmups[s.name].non2xx
      }
    }

    // 5. Start-up timings.
    say(`timing ${options.starts} fresh starts of workflows serve`)
    // Alternated start by start, so a busy spell on the machine weighs on both alike.
    const starts = { ours: [], reference: [], baseline: [] }
    const cliTimes = { ours: [], baseline: [] }
    for (let i = 0; i < options.starts; i++) {
      starts.ours.push(
        ...(await timeStarts({
          count: 1,
          tmp,
          cpu: pinning.server,
          args: OUR_SERVER,
          database: undefined,
          label: "ours"
        }))
      )
      if (options.baseline !== undefined) {
        starts.baseline.push(
          ...(await timeStarts({
            count: 1,
            tmp,
            cpu: pinning.server,
            args: [options.baseline, "serve"],
            database: undefined,
            label: "baseline"
          }))
        )
      }
      starts.reference.push(
        ...(await timeStarts({
          count: 1,
          tmp,
          cpu: pinning.server,
          args: REFERENCE_SERVER,
          database: refDb,
          label: "reference"
        }))
      )
    }
    say(`timing ${options.starts} runs of workflows --help`)
    for (let i = 0; i < options.starts; i++) {
      cliTimes.ours.push(...timeCliHelp(1, pinning.server, CLI))
      if (options.baseline !== undefined) cliTimes.baseline.push(...timeCliHelp(1, pinning.server, options.baseline))
    }

    const machine = {
      date: new Date().toISOString(),
      nproc,
      cpuModel: os.cpus()[0]?.model?.trim() ?? "unknown CPU",
      memGb: fmt(os.totalmem() / 2 ** 30, 1),
      kernel: os.release(),
      loadavg: loadAtStart,
      sqlite: (() => {
        const db = new Database(":memory:")
        const v = db.prepare("SELECT sqlite_version() AS v").get().v
        db.close()
        return v
      })(),
      autocannon: JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules/autocannon/package.json"), "utf8")).version,
      git: (() => {
        try {
          const rev = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim()
          const dirty =
            execFileSync("git", ["status", "--porcelain", "--", "packages"], { cwd: ROOT, encoding: "utf8" }).trim() !==
              ""
          return `${rev}${dirty ? " + uncommitted changes in packages/" : ""}`
        } catch {
          return "unknown"
        }
      })()
    }
    const markdown = report({
      options,
      pinning,
      machine,
      servers,
      results,
      routeResults,
      starts,
      cliTimes,
      checks,
      integrity
    })
    fs.writeFileSync(RESULTS, markdown)
    console.log(markdown)
    say(`written to ${path.relative(ROOT, RESULTS)}`)
  } finally {
    await Promise.all([...children].map((child) => stopProcess(child)))
    if (options.keep) say(`kept ${tmp}`)
    else fs.rmSync(tmp, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(`bench: ${error?.stack ?? error}`)
  killAll("SIGKILL")
  process.exit(1)
})
