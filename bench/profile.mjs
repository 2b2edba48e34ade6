#!/usr/bin/env node
// `npm run bench:profile [-- flags]`: a CPU profile of `workflows serve` under the bench's PATCH
// load (or another route's), summarised by function and by package. The server runs from the
// unbundled build (packages/cli/dist/bin.js) so frames keep their names. Not part of `npm test`.
//
// Flags: --route patch|get|list|events|healthz|create|lifecycle (patch; events reads pages of 10 events)  --duration S (8)  --warmup S (3)  --connections N (32)
//        --rows N (2000)  --top N (40)  --out DIR (keep the profile there)
//        --alloc (sample allocation sites instead, garbage included: slow, for finding where)
//        --bytes (no profiler: only the bytes allocated and the runtime steps taken per request, counted by
//        bench/alloc-probe.mjs)
//        --gc (no profiler: V8's collections under the load, from --trace-gc: how many, their pauses, and
//        how much each request leaves in the old generation)
//        --maps (no profiler: the hidden classes (V8 maps) made per request, from --log-maps, and the code that
//        made them; a steady server makes none, so any here are made again for every request)
//        --node-flag FLAG (one more flag for the server's node, to compare V8 settings)
import autocannon from "autocannon"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { freePort, sleep } from "./support.mjs"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const flag = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : process.argv[i + 1]
}
const route = flag("route", "patch")
const duration = Number(flag("duration", 8))
const warmup = Number(flag("warmup", 3))
const connections = Number(flag("connections", 32))
const rows = Number(flag("rows", 2000))
const top = Number(flag("top", 40))
const out = flag("out", undefined)
const alloc = process.argv.includes("--alloc") // an allocation profile instead of a CPU profile
const bytesOnly = process.argv.includes("--bytes")
const gcOnly = process.argv.includes("--gc")
const mapsOnly = process.argv.includes("--maps")
const nodeFlag = flag("node-flag", undefined)

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "workflows-profile-"))
const profDir = out ?? path.join(tmp, "prof")
const file = path.join(tmp, "profile.db")

const start = async (extra) => {
  const port = await freePort()
  const log = path.join(tmp, `server-${port}.log`)
  const fd = fs.openSync(log, "a")
  const spawned = performance.now()
  // The server on the first allowed CPU, this process (and autocannon) elsewhere, as in bench/run.mjs.
  const child = spawn("taskset", ["-c", "0", process.execPath, ...extra, "packages/cli/dist/bin.js", "serve"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", DATABASE_URL: `sqlite:${file}` },
    stdio: ["ignore", fd, fd]
  })
  fs.closeSync(fd)
  const exited = new Promise((resolve) => child.once("exit", resolve))
  for (let i = 0; i < 2400; i++) {
    if (/listening on/.test(fs.readFileSync(log, "utf8"))) break
    await sleep(50)
  }
  return { child, port, log, exited, spawned }
}

const request = async (port, method, url, key, body) => {
  const res = await fetch(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body
  })
  return res.json()
}

function summariseAllocations(profile, requests, route) {
  const bySite = new Map()
  let total = 0
  const walk = (node) => {
    const f = node.callFrame
    const name = `${f.functionName || "(anonymous)"} ${
      f.url.replace(/^.*node_modules\//, "").replace(/^.*packages\//, "")
    }:${f.lineNumber + 1}`
    const bytes = node.selfSize
    total += bytes
    bySite.set(name, (bySite.get(name) ?? 0) + bytes)
    for (const child of node.children) walk(child)
  }
  walk(profile.head)
  console.log(
    `${route}: about ${Math.round(total / requests / 1024)} KB allocated per request (${requests} requests, sampled)`
  )
  for (const [name, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${String(Math.round(bytes / requests)).padStart(7)} B  ${name}`)
  }
}

/**
 * V8's `--trace-gc` lines after `fromMs`: collections, their pauses, and the old generation's
 * growth between consecutive minor collections (what they promoted), per request.
 */
function summariseCollections(log, fromMs, requests, route) {
  const line = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: (Scavenge|Mark-Compact)[^,]*? -> ([\d.]+) \([\d.]+\) MB, ([\d.]+) \//
  const minor = { count: 0, pauseMs: 0 }
  const full = { count: 0, pauseMs: 0 }
  let promotedMb = 0
  let lastAfter
  for (const text of log.split("\n")) {
    const m = line.exec(text)
    if (m === null || Number(m[1]) < fromMs) continue
    const [kind, after, pause] = [m[2], Number(m[3]), Number(m[4])]
    const counted = kind === "Scavenge" ? minor : full
    counted.count++
    counted.pauseMs += pause
    if (kind === "Scavenge" && lastAfter !== undefined) promotedMb += Math.max(0, after - lastAfter)
    lastAfter = kind === "Scavenge" ? after : undefined
  }
  const describe = ({ count, pauseMs }) =>
    `${count} (${pauseMs.toFixed(0)} ms of pauses, ${(pauseMs / Math.max(count, 1)).toFixed(1)} ms each)`
  console.log(`${route}: minor collections ${describe(minor)}; full collections ${describe(full)}`)
  console.log(
    `${route}: about ${
      (promotedMb * 1024 / requests).toFixed(1)
    } KB per request left in the old generation by minor collections`
  )
}

/**
 * V8's map log (`--log-maps --log-code`) between two byte offsets: the map events per request by
 * kind, and the functions whose code made them. A transition or initial map logged in a steady
 * state is a hidden class made again, not one looked up; `NormalizeCached` reuses a cached one.
 */
function summariseMaps(log, from, to, requests, route) {
  const code = []
  for (const line of log.toString("latin1").split("\n")) {
    if (!line.startsWith("code-creation,")) continue
    const f = line.split(",")
    code.push({ start: Number.parseInt(f[4], 16), size: Number(f[5]), name: f[6].trim() })
  }
  const codeAt = (pc) => {
    const hit = code.findLast((c) => pc >= c.start && pc < c.start + c.size)
    return hit === undefined ? "(unknown code)" : hit.name.replace(/file:\/\/\S*?(node_modules|packages)\//, "")
  }
  const kinds = new Map()
  const sites = new Map()
  let made = 0
  for (const line of log.subarray(from, to).toString("latin1").split("\n")) {
    if (!line.startsWith("map,")) continue
    const f = line.split(",")
    kinds.set(f[1], (kinds.get(f[1]) ?? 0) + 1)
    if (f[1] === "NormalizeCached") continue
    made++
    const site = `${f[1]} by ${codeAt(Number.parseInt(f[5], 16))}${f[9] ? ` (${f[9]})` : ""}`
    sites.set(site, (sites.get(site) ?? 0) + 1)
  }
  const perRequest = (n) => (n / requests).toFixed(2)
  console.log(`${route}: ${perRequest(made)} hidden classes made per request (${requests} requests)`)
  for (const [kind, n] of [...kinds].sort((a, b) => b[1] - a[1])) console.log(`  ${perRequest(n).padStart(8)}  ${kind}`)
  if (made > 0) console.log("made by:")
  for (const [site, n] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${perRequest(n).padStart(8)}  ${site}`)
  }
}

try {
  // Bootstrap (key printed once), create the rows over HTTP, then restart under the profiler.
  const boot = await start([])
  const key = /\b(wfk_[0-9A-Za-z]{22,128})\b/.exec(fs.readFileSync(boot.log, "utf8"))[1]
  const ids = []
  for (let i = 0; i < rows; i++) {
    ids.push((await request(boot.port, "POST", "/v1/workflows", key, JSON.stringify({ title: `Profiled ${i}` }))).id)
  }
  // The events route reads the first workflows' trails, 10 events each (created + 9 updates).
  const trails = route === "events" ? ids.slice(0, 20) : []
  // The lifecycle route pauses and resumes the first 200, activated here.
  const active = route === "lifecycle" ? ids.slice(0, 200) : []
  const paused = new Set()
  for (const id of active) await request(boot.port, "POST", `/v1/workflows/${id}/activate`, key, undefined)
  for (const id of trails) {
    for (let i = 1; i < 10; i++) {
      await request(boot.port, "PATCH", `/v1/workflows/${id}`, key, JSON.stringify({ title: `Trail ${i}` }))
    }
  }
  boot.child.kill("SIGTERM")
  await boot.exited

  const allocOut = path.join(tmp, "alloc.heapprofile")
  process.env.ALLOC_PROFILE_OUT = allocOut
  process.env.ALLOC_PROBE_OUT = path.join(tmp, "bytes.json")
  const mapLog = path.join(tmp, "maps.log")
  const server = await start([
    ...(nodeFlag === undefined ? [] : [nodeFlag]),
    ...(alloc
      ? ["--import", "./bench/alloc-sampler.mjs"]
      : bytesOnly
      ? ["--import", "./bench/alloc-probe.mjs"]
      : gcOnly
      ? ["--trace-gc"]
      : mapsOnly
      ? ["--log-maps", "--log-code", `--logfile=${mapLog}`, "--no-logfile-per-isolate"]
      : ["--cpu-prof", `--cpu-prof-dir=${profDir}`])
  ])
  let seq = 0
  const requests = {
    patch: () => [{
      method: "PATCH",
      setupRequest: (req) => {
        const n = seq++
        return {
          ...req,
          path: `/v1/workflows/${ids[n % ids.length]}`,
          body: JSON.stringify(n % 2 ? { title: `Bench ${n}` } : { description: `Updated ${n}` })
        }
      }
    }],
    get:
      () => [{ method: "GET", setupRequest: (req) => ({ ...req, path: `/v1/workflows/${ids[seq++ % ids.length]}` }) }],
    list: () => [{ method: "GET", path: "/v1/workflows?limit=20" }],
    events: () => [{
      method: "GET",
      setupRequest: (req) => ({ ...req, path: `/v1/workflows/${trails[seq++ % trails.length]}/events` })
    }],
    healthz: () => [{ method: "GET", path: "/healthz" }],
    create: () => [{
      method: "POST",
      setupRequest: (req) => ({ ...req, path: "/v1/workflows", body: JSON.stringify({ title: `Created ${seq++}` }) })
    }],
    // Round the active workflows, pausing each and resuming it the next time round.
    lifecycle: () => [{
      method: "POST",
      setupRequest: (req) => {
        const id = active[seq++ % active.length]
        const action = paused.has(id) ? "resume" : "pause"
        if (action === "pause") paused.add(id)
        else paused.delete(id)
        return { ...req, path: `/v1/workflows/${id}/${action}` }
      }
    }]
  }[route]()
  const drive = (seconds) =>
    autocannon({
      url: `http://127.0.0.1:${server.port}`,
      connections,
      duration: seconds,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      requests
    })
  await drive(warmup)
  const measuredFrom = (performance.now() - server.spawned) * 1000 // µs after spawn: skip start-up and warm-up
  const waitFor = async (f) => {
    while (!fs.existsSync(f)) await sleep(50)
  }
  if (alloc || bytesOnly) {
    server.child.kill("SIGUSR2")
    await waitFor((alloc ? allocOut : process.env.ALLOC_PROBE_OUT) + ".started")
  }
  const mapsFrom = mapsOnly ? fs.statSync(mapLog).size : 0
  const result = await drive(duration)
  const mapsTo = mapsOnly ? fs.statSync(mapLog).size : 0
  if (bytesOnly) {
    server.child.kill("SIGUSR2")
    await waitFor(process.env.ALLOC_PROBE_OUT)
    await sleep(200)
    const { bytes, steps } = JSON.parse(fs.readFileSync(process.env.ALLOC_PROBE_OUT, "utf8"))
    const perRequest = (n) => n / result.requests.total
    console.log(
      `${route}: ${(perRequest(bytes) / 1024).toFixed(1)} KB allocated and ${
        Math.round(perRequest(steps))
      } Effect runtime steps per request (${result.requests.total} requests)`
    )
  }
  if (alloc) {
    server.child.kill("SIGUSR2")
    await waitFor(allocOut)
    await sleep(500)
    summariseAllocations(JSON.parse(fs.readFileSync(allocOut, "utf8")), result.requests.total, route)
    if (out !== undefined) fs.copyFileSync(allocOut, path.join(out, "alloc.heapprofile"))
  }
  server.child.kill("SIGTERM")
  await server.exited
  console.log(
    `${route}: ${result.requests.total} requests, ${
      Math.round(result.requests.average)
    } req/s, non-2xx ${result.non2xx}`
  )

  if (gcOnly) {
    summariseCollections(fs.readFileSync(server.log, "utf8"), measuredFrom / 1000, result.requests.total, route)
  }
  if (mapsOnly) summariseMaps(fs.readFileSync(mapLog), mapsFrom, mapsTo, result.requests.total, route)
  if (alloc || bytesOnly || gcOnly || mapsOnly) process.exit(0)
  const profile = JSON.parse(
    fs.readFileSync(path.join(profDir, fs.readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"))), "utf8")
  )
  const self = new Map()
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]))
  const dt = new Map()
  let at = 0
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0
    if (at >= measuredFrom) dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  let total = 0
  const byPackage = new Map()
  const packageOf = (url) => {
    if (url === "") return "(native/vm)"
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
    if (m) return m[1]
    if (url.startsWith("node:")) return "node:"
    const ours = /packages\/(\w+)\//.exec(url)
    return ours ? `@workflows/${ours[1]}` : url
  }
  for (const [id, us] of dt) {
    const n = byNode.get(id)
    const f = n.callFrame
    const name = `${f.functionName || "(anonymous)"} ${
      f.url.replace(/^.*node_modules\//, "").replace(/^.*packages\//, "")
    }:${f.lineNumber + 1}`
    self.set(name, (self.get(name) ?? 0) + us)
    const pkg = packageOf(f.url)
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us)
    total += us
  }
  const pct = (us) => `${((100 * us) / total).toFixed(1)} %`
  console.log(`\nself time by package (of ${(total / 1e6).toFixed(1)} s sampled):`)
  for (const [pkg, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`  ${pct(us).padStart(7)}  ${pkg}`)
  }
  console.log(`\nself time by function (top ${top}):`)
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${pct(us).padStart(7)}  ${name}`)
  }
  if (out !== undefined) console.log(`\nprofile kept in ${out}`)
} finally {
  fs.rmSync(tmp, { recursive: true, force: true })
}
